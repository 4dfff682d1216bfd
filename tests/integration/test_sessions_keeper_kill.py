"""A SIGKILLed keeper leaves nothing behind for long. A keeper frees its
session on every path it sees, but SIGKILL gives it none: its jail dies
with it (init's parent-death signal) and the kernel drops its slot's lock,
but its socket under runtime_dir/sessions, its jail's mount point
runtime_dir/sjail.N.* and its cgroups sess.N stayed until the service
restarted. Now the worker that finds the dead socket (connection refused)
removes it and sweeps the free slots' mount points and cgroups; the id
answers 404 SessionNotFound as for any ended session, and the slot serves
a new session."""
import os
import signal
import time

from sess_helpers import call, cell, create, delete
from test_sessions_lifetime import (_inits, _leftovers, _ours, _session_procs,
                                    _status)

CONFIG = {'max_sessions': 2, 'session_idle_seconds': 120,
          'time_limit_seconds': 5, 'rate_limit_per_minute': 1000,
          'daily_quota': 100000}
TIMEOUT = 180


def test_a_killed_keepers_leftovers_are_reclaimed(s):
    before = _inits()
    sid = create(s)
    cell(s, sid, 'import subprocess\n'
         'p = subprocess.Popen(["/bin/sh", "-c", "exec sleep 600"])')
    procs = _session_procs(s, before)
    assert len(procs) == 1, procs
    p = list(procs.values())[0]
    pids = [p['keeper'], p['init']] + p['python']
    socks, dirs, cgs = _leftovers(s)
    assert socks and dirs, (socks, dirs, cgs)
    os.kill(p['keeper'], signal.SIGKILL)
    deadline = time.monotonic() + s.slack(60, 10)
    while time.monotonic() < deadline and any(_status(x) for x in pids):
        time.sleep(0.2)
    assert not [x for x in pids if _status(x)], pids
    # Every answer is the ended session's; the worker that meets the
    # dead socket reclaims what the keeper left.
    deadline = time.monotonic() + s.slack(60, 10)
    left = _leftovers(s)
    while time.monotonic() < deadline:
        st, doc, _ = call(s, 'GET', '/sessions/' + sid)
        assert st == 404 and \
            doc['error_details']['type'] == 'SessionNotFound', (st, doc)
        left = _leftovers(s)
        if left == ([], [], []):
            break
        time.sleep(0.5)
    assert left == ([], [], []), ('left behind by the killed keeper', left)
    st, doc, _ = call(s, 'POST', '/sessions/%s/execute' % sid,
                      {'code': '1'}, admin=True)
    assert st == 404, (st, doc)
    # Both slots serve again.
    ids = [create(s), create(s)]
    for i in ids:
        assert cell(s, i, '6 * 7')['result'] == '42'
    for i in ids:
        delete(s, i)


def _service_procs():
    """pid -> cmdline of the service user's pyexec processes."""
    import pwd
    from stack import SERVICE_USER
    uid = pwd.getpwnam(SERVICE_USER).pw_uid
    out = {}
    for p in os.listdir('/proc'):
        if not p.isdigit():
            continue
        try:
            if os.stat('/proc/' + p).st_uid != uid:
                continue
            with open('/proc/%s/cmdline' % p, 'rb') as f:
                cmd = f.read()
        except OSError:
            continue
        if b'pyexec' in cmd:
            out[int(p)] = cmd
    return out


def _dead(pid):
    st = _status(pid)
    return st is None or '\nState:\tZ' in st


def test_a_killed_fork_keepers_processes_are_reclaimed(s):
    # A fork's keeper SIGKILLed: the fork's processes live in its family's
    # jail (no parent-death signal reaches them); the worker that meets
    # the dead socket kills them through the fork's CPU group and removes
    # it, while the parent lives on.
    if not getattr(s, 'cgroups', None):
        raise AssertionError('no delegated cgroup on this host')
    sid = create(s)
    try:
        before = _service_procs()
        cgs0 = set(_leftovers(s)[2])
        st, doc, _ = call(s, 'POST', '/sessions/%s/fork' % sid, {},
                          admin=True)
        assert st == 201, (st, doc)
        kid = doc['session_id']
        # The fork's keeper: the one new process of the service user that
        # holds a file of this stack's runtime_dir (a session slot).
        keepers = [p for p in _service_procs() if p not in before and
                   _ours(s, p)]
        assert len(keepers) == 1, keepers
        mine = set(_leftovers(s)[2]) - cgs0
        assert mine, 'the fork has no CPU group of its own'
        pid = int(cell(s, kid, 'import subprocess\n'
                       'p = subprocess.Popen(["/bin/sh", "-c", '
                       '"exec sleep 600"])\np.pid')['result'])
        alive = 'import os\nos.path.exists("/proc/%d")' % pid
        assert cell(s, sid, alive)['result'] == 'True'
        os.kill(keepers[0], signal.SIGKILL)
        deadline = time.monotonic() + s.slack(30, 5)
        while time.monotonic() < deadline and not _dead(keepers[0]):
            time.sleep(0.1)
        deadline = time.monotonic() + s.slack(60, 10)
        gone = False
        while time.monotonic() < deadline:
            st, doc, _ = call(s, 'GET', '/sessions/' + kid)
            assert st == 404, (st, doc)
            gone = (cell(s, sid, alive)['result'] == 'False' and
                    not (set(_leftovers(s)[2]) & mine))
            if gone:
                break
            time.sleep(0.5)
        assert gone, ("the killed fork's processes or CPU group are left",
                      set(_leftovers(s)[2]) & mine)
        assert cell(s, sid, '6 * 7')['result'] == '42'
    finally:
        delete(s, sid)
