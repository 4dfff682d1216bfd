"""A worker SIGKILLed mid-run: the client gets nginx's documented 503 (with
Retry-After), the run's jail dies with the worker, and nothing of the run
is left: its mount point is removed by the next worker to start (the
names carry the worker's pid) and, on cgroup v2, its cgroup too."""
import os
import re
import signal
import threading
import time

from helpers import ok
from procfs import running


def _jail_inits():
    """pid -> parent pid of every process that is PID 1 of a nested PID
    namespace (a jail's init)."""
    out = {}
    for p in os.listdir('/proc'):
        if not p.isdigit():
            continue
        try:
            with open('/proc/%s/status' % p) as f:
                st = f.read()
        except OSError:
            continue
        m = re.search(r'^NSpid:\t(.*)$', st, re.M)
        if m and len(m.group(1).split()) > 1 and m.group(1).split()[-1] == '1':
            out[int(p)] = int(re.search(r'^PPid:\t(\d+)', st, re.M).group(1))
    return out


def _started(init):
    """Has init's child, the script, renamed itself "started"?"""
    try:
        with open('/proc/%d/task/%d/children' % (init, init)) as f:
            kids = f.read().split()
        for k in kids:
            with open('/proc/%s/comm' % k) as f:
                if f.read().strip() == 'started':
                    return True
    except OSError:
        pass
    return False


def _stack_workers(s):
    pids = set(int(p) for p in re.findall(r'\[(\d+)\]: worker ready',
                                          s.worker_log_text()))
    return {p for p in pids if os.path.exists('/proc/%d' % p)}


def test_worker_killed_mid_run_leaves_nothing(s):
    jails = os.path.join(s.base, 'jails')
    ok(s.execute({'code': 'pass'}))
    workers = _stack_workers(s)
    res = {}
    # Sleeps far past the test: only the worker's death can end it early.
    # Its name says when it runs (in zygote mode the code arrives after
    # the fork, on a stream from the worker).
    code = ('import time\nopen("/proc/self/comm", "w").write("started")\n'
            'print("x", flush=True)\ntime.sleep(600)\n')
    t = threading.Thread(target=lambda: res.update(r=s.execute(
        {'code': code, 'api_key': s.admin_key}, timeout=120)))
    t.start()
    victim, init, deadline = None, None, time.monotonic() + 60
    while victim is None and time.monotonic() < deadline:
        # The jail is the worker's child in both modes; past its set-up
        # (its uid change among it), the script runs. Idle workers hold
        # pre-built jails too (zygote mode), which run no script.
        for pid, parent in _jail_inits().items():
            if parent in workers and _started(pid):
                victim, init = parent, pid
        time.sleep(0.01)
    assert victim, 'no jail of this stack started the script'
    left = [n for n in os.listdir(jails) if n.startswith('jail.%d.' % victim)]
    assert left, os.listdir(jails)      # the run's mount point, named for it
    os.kill(victim, signal.SIGKILL)
    t.join()
    st, doc, hdrs = res['r']
    assert st == 503 and doc['error_details']['type'] == 'ServiceUnavailable', (st, doc)
    assert hdrs.get('retry-after'), hdrs
    # multiwatch starts a new worker, which removes the dead one's leftovers
    deadline = time.monotonic() + s.slack()
    while time.monotonic() < deadline and any(
            n.startswith('jail.%d.' % victim) for n in os.listdir(jails)):
        time.sleep(0.1)
    assert not any(n.startswith('jail.%d.' % victim) for n in os.listdir(jails)), \
        os.listdir(jails)
    assert victim not in _jail_inits().values()
    # The run dies with its worker (the parent-death signal, re-armed after
    # the jail's uid change), not when the script ends by itself.
    deadline = time.monotonic() + s.slack()
    while time.monotonic() < deadline and running(init):
        time.sleep(0.1)
    assert not running(init), 'the jail outlived its worker'
    d = ok(s.execute({'code': 'print("after")'}))
    assert d['stdout'] == 'after\n'
