"""session_cpu_seconds bounds the whole session's CPU, not each process's
(found by the attack review): a cell leaves behind a chain of processes,
out of the interpreter's process group, each burning about a second and
forking before RLIMIT_CPU could stop it. The keeper counts the CPU of
every process in the session's cgroup (with what they reaped) and ends
the session at the limit, even with no call in progress."""
import time

from sess_helpers import call, cell, create, delete

CONFIG = {'session_cpu_seconds': 2, 'time_limit_seconds': 5,
          'rate_limit_per_minute': 1000, 'daily_quota': 100000}
TIMEOUT = 240

CHAIN = r'''
import os, signal
if os.fork() == 0:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.setsid()
    while True:
        t = os.times(); base = t.user + t.system
        while True:
            t = os.times()
            if t.user + t.system - base > 0.5:
                break
        if os.fork() != 0:
            os._exit(0)
'''


def test_session_cpu_seconds_bounds_the_whole_session(s):
    sid = create(s)
    try:
        d = cell(s, sid, CHAIN)
        assert d['session_alive'] is True, d
        # Six times the limit of CPU at most (one core), on a slow machine.
        deadline = time.monotonic() + 12 * 2 + 60
        st = 200
        while time.monotonic() < deadline:
            st, doc, _ = call(s, 'GET', '/sessions/%s' % sid)
            if st == 404:
                break
            time.sleep(0.5)
        assert st == 404, ('the session outlived session_cpu_seconds', doc)
    finally:
        delete(s, sid)


def test_ordinary_cells_within_the_budget_live_on(s):
    sid = create(s)
    try:
        for i in range(3):
            d = cell(s, sid, 'x = %d\nx * 2' % i)
            assert d['session_alive'] is True and d['result'] == str(2 * i), d
    finally:
        delete(s, sid)
