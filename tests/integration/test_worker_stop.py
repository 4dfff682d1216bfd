"""A worker told to stop (SIGUSR1 from multiwatch, which systemd stops
with SIGTERM; SIGTERM sent to the worker itself) while it serves a
request finishes that request, answers it and exits
(src/http/fcgi.c). Its accept wakes once a second (accept_wakes), and
libfcgi, once stopping, returns the error of whatever failed last, EAGAIN
included: taken for a wake, that made a stopping worker spin instead of
exiting (the Debian package's restart test found it)."""
import glob
import os
import signal
import threading
import time

from escape_util import worker_pids
from helpers import ok
from procfs import running

MODES = ('zygote', 'exec')
WORKERS = 1


def _running(name):
    """Is a process named name running (its comm)?"""
    for path in glob.glob('/proc/[0-9]*/comm'):
        try:
            with open(path) as f:
                if f.read().rstrip('\n') == name:
                    return True
        except OSError:
            pass
    return False


def _stop_mid_run(s, sig):
    ok(s.execute({'code': 'pass'}))
    # Measured now: slack() may time a run, which this one worker would
    # serve only after the one below.
    wait = s.slack()
    workers = worker_pids(s)
    assert len(workers) == WORKERS, workers
    worker = workers.pop()
    name = 'stop-' + os.urandom(4).hex()
    res = {}
    t = threading.Thread(target=lambda: res.update(r=s.execute(
        {'code': 'open("/proc/self/comm", "w").write(%r)\n'
                 'import time\ntime.sleep(2)\nprint(6 * 7)' % name,
         'api_key': s.admin_key}, timeout=120)))
    t.start()
    try:
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and not _running(name):
            time.sleep(0.02)
        assert _running(name), 'the run did not start'
        os.kill(worker, sig)
    finally:
        t.join(120)
    assert ok(res['r'])['stdout'] == '42\n', res['r']
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline and running(worker):
        time.sleep(0.05)
    assert not running(worker), 'the worker did not exit after its last answer'
    # multiwatch starts another in its place
    deadline = time.monotonic() + s.slack(runs=100)
    while True:
        st, doc, _ = s.execute({'code': 'print(1)'})
        if st == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert st == 200 and ok((st, doc, _))['stdout'] == '1\n', (st, doc)


def test_a_worker_stopped_mid_run_answers_and_exits(s):
    _stop_mid_run(s, signal.SIGTERM)


def test_multiwatch_s_stop_signal_too(s):
    _stop_mid_run(s, signal.SIGUSR1)
