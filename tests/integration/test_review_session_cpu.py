"""Review of sessions (issue 11): session_cpu_seconds is documented as the
session's total CPU, but it is RLIMIT_CPU, which is per process. A cell
that leaves a process behind which re-forks before its own limit (and
leaves the interpreter's process group, so the wall-limit SIGINT misses
it) burns CPU without bound for the session's whole life (up to
session_max_seconds, default 3600 s), uncharged, while the session stays
alive. Fails while the session's CPU is not bounded as a whole."""
import time

from sess_helpers import create, cell, delete

CONFIG = {'session_cpu_seconds': 2, 'time_limit_seconds': 5,
          'rate_limit_per_minute': 1000, 'daily_quota': 100000}
TIMEOUT = 240

CHAIN = r'''
import os, signal
if os.fork() == 0:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.setsid()
    total = 0.0
    while True:
        t = os.times(); base = t.user + t.system
        while True:
            t = os.times(); c = t.user + t.system
            if c - base > 1.0:
                break
        total += c - base
        with open('/work/total', 'w') as f:
            f.write('%.2f' % total)
        if os.fork() != 0:
            os._exit(0)
'''

READ = ("import os\n"
        "float(open('/work/total').read()) if os.path.exists('/work/total') "
        "else 0.0")


def test_session_cpu_seconds_bounds_the_whole_session(s):
    limit = 2
    sid = create(s)
    d = cell(s, sid, CHAIN)
    assert d['session_alive'] is True, d
    used = 0.0
    deadline = time.monotonic() + 150
    while time.monotonic() < deadline:
        time.sleep(3)
        d = cell(s, sid, READ) if True else None
        if not d['session_alive']:
            break
        used = float(d['result'])
        if used >= 3 * limit:
            break
    delete(s, sid)
    assert used < 3 * limit, (
        'the session used %.1f s of CPU (session_cpu_seconds = %d) and is '
        'still alive' % (used, limit))
