"""Sessions (issue 11), priority 2: a session outlives the worker that made
it, expires on its own leaving nothing, is interrupted (not killed) at the
per-call wall limit unless it ignores the interrupt, is capped in memory as
a whole, cannot see another session, and never holds the admin key."""
import os
import re
import signal
import time

from sess_helpers import call, create, run, cell, delete

CONFIG = {'max_sessions': 4, 'session_idle_seconds': 8,
          'time_limit_seconds': 3, 'session_memory_mb': 160,
          'rate_limit_per_minute': 1000, 'daily_quota': 100000}


def _status(pid):
    try:
        with open('/proc/%d/status' % pid) as f:
            return f.read()
    except OSError:
        return None


def _children(pid):
    out = []
    for p in os.listdir('/proc'):
        if p.isdigit():
            st = _status(int(p))
            if st and re.search(r'^PPid:\t%d$' % pid, st, re.M):
                out.append(int(p))
    return out


def _workers(s):
    pids = set(int(p) for p in re.findall(r'\[(\d+)\]: worker ready',
                                          s.worker_log_text()))
    return {p for p in pids if os.path.exists('/proc/%d' % p)}


def _ours(s, pid):
    """Does pid hold a file of this stack's runtime_dir (a keeper's slot)?"""
    rd = s.config['runtime_dir'] + '/'
    try:
        for fd in os.listdir('/proc/%d/fd' % pid):
            try:
                if os.readlink('/proc/%d/fd/%s' % (pid, fd)).startswith(rd):
                    return True
            except OSError:
                pass
    except OSError:
        pass
    return False


def _session_procs(s, before):
    """keeper, init and init's children of this stack's sessions made since
    `before` (a set of jail inits): inits whose parent is a keeper of ours."""
    from test_worker_crash import _jail_inits
    workers = _workers(s)
    out = {}
    for init, parent in _jail_inits().items():
        if init in before or parent in workers or not _ours(s, parent):
            continue
        out[init] = {'keeper': parent, 'init': init,
                     'python': _children(init)}
    return out


def _inits():
    from test_worker_crash import _jail_inits
    return set(_jail_inits())


def _leftovers(s):
    rd = s.config['runtime_dir']
    # chosen.lock: the lock of compat sessions' sockets, the service's own.
    socks = [n for n in os.listdir(os.path.join(rd, 'sessions'))
             if n != 'chosen.lock'] \
        if os.path.isdir(os.path.join(rd, 'sessions')) else []
    dirs = [n for n in os.listdir(rd) if n.startswith('sjail.')]
    cgs = []
    for base in getattr(s, 'cgroups', []):
        for root, ds, _ in os.walk(base):
            cgs += [os.path.join(root, d) for d in ds if d.startswith('sess.')]
    return socks, dirs, cgs


def test_session_expiry_leaves_nothing(s):
    before = _inits()
    sid = create(s)
    cell(s, sid, 'import subprocess\n'
         'p = subprocess.Popen(["/bin/sh", "-c", "exec sleep 600"])')
    procs = _session_procs(s, before)
    assert len(procs) == 1, procs
    p = list(procs.values())[0]
    pids = [p['keeper'], p['init']] + p['python']
    socks, dirs, cgs = _leftovers(s)
    assert socks and dirs, (socks, dirs)
    # No request at all from here on: the keeper's own clock ends it.
    deadline = time.monotonic() + 8 + s.slack(100, 20)
    while time.monotonic() < deadline and any(_status(x) for x in pids):
        time.sleep(0.5)
    assert not [x for x in pids if _status(x)], pids
    time.sleep(0.5)
    assert _leftovers(s) == ([], [], []), _leftovers(s)
    st, doc, _ = call(s, 'GET', '/sessions/' + sid)
    assert st == 404 and doc['error_details']['type'] == 'SessionNotFound'


def test_cell_interrupted_at_time_limit_keeps_session(s):
    sid = create(s)
    d = cell(s, sid, 'x = 5\nimport time\ntime.sleep(60)')
    assert d['termination'] == 'timeout', d
    assert d['error']['type'] == 'KeyboardInterrupt', d
    assert d['session_alive'] is True, d
    assert cell(s, sid, 'x')['result'] == '5'
    delete(s, sid)


def test_cell_ignoring_interrupt_ends_session(s):
    sid = create(s)
    d = cell(s, sid, 'import signal, time\n'
             'signal.signal(signal.SIGINT, signal.SIG_IGN)\n'
             'print("spinning", flush=True)\n'
             'while True:\n    time.sleep(0.05)')
    assert d['termination'] == 'timeout', d
    assert d['session_alive'] is False, d
    assert 'did not stop' in d['session_message'], d
    assert d['stdout'] == 'spinning\n', d
    st, doc, _ = call(s, 'GET', '/sessions/' + sid)
    assert st == 404, doc


def test_two_sessions_cannot_see_each_other(s):
    a, b = create(s), create(s)
    cell(s, a, 'open("secret-a.txt", "w").write("A")\n'
         'open("/tmp/tmp-a", "w").write("A")\n'
         'import subprocess\n'
         'p = subprocess.Popen(["/bin/sh", "-c", "exec sleep 600 # MARK-A"])')
    d = cell(s, b, 'import os\n'
             'found = []\n'
             'for p in os.listdir("/proc"):\n'
             '    if p.isdigit():\n'
             '        try:\n'
             '            found.append(open("/proc/%s/cmdline" % p, "rb").read())\n'
             '        except OSError:\n'
             '            pass\n'
             'print(sorted(os.listdir(".")), os.path.exists("/tmp/tmp-a"),\n'
             '      any(b"MARK-A" in c for c in found), len(found))')
    assert d['stdout'].startswith('[] False False'), d
    st, doc, _ = call(s, 'GET', '/sessions/%s/files/secret-a.txt' % b)
    assert st == 404, (st, doc)
    delete(s, a)
    delete(s, b)


def _scan(pid, needle):
    with open('/proc/%d/maps' % pid) as maps, \
            open('/proc/%d/mem' % pid, 'rb', 0) as mem:
        for line in maps:
            addr, perms = line.split()[:2]
            if 'r' not in perms:
                continue
            start, end = (int(x, 16) for x in addr.split('-'))
            try:
                mem.seek(start)
                if needle in mem.read(end - start):
                    return True
            except (OSError, ValueError, OverflowError):
                continue
    return False


def test_admin_key_never_in_a_session(s):
    before = _inits()
    sid = create(s, admin=True)
    cell(s, sid, 'x = 1', admin=True)
    procs = _session_procs(s, before)
    assert len(procs) == 1, procs
    p = list(procs.values())[0]
    key = s.admin_key.encode()
    for pid in p['python']:
        assert not _scan(pid, key), 'admin key in the session interpreter'
    if s.config.get('mode', 'zygote') == 'zygote':
        # The keeper and init are copies of the zygote, which never held it.
        for pid in (p['init'], p['keeper']):
            assert not _scan(pid, key), 'admin key in %d' % pid
    delete(s, sid)
