"""Per-slot host uids (pyexec-uidmap) and the workers' fd limit."""
import os
import pwd
import secrets
import threading
import time


def _run(stack, code):
    status, doc, _ = stack.execute({'code': code, 'api_key': stack.admin_key})
    assert status == 200, (status, doc)
    d = doc['execution_details']
    assert d['exit_code'] == 0, d
    return d['stdout']


def _comm_pids(tag):
    found = []
    for p in os.listdir('/proc'):
        try:
            with open('/proc/%s/comm' % p) as f:
                if f.read().strip() == tag:
                    found.append(p)
        except OSError:
            pass
    return found


def _status_ids(pid, key):
    with open('/proc/%s/status' % pid) as f:
        for line in f:
            if line.startswith(key + ':'):
                return [int(x) for x in line.split()[1:]]
    return []


def _subid(path, name):
    with open(path) as f:
        for line in f:
            parts = line.strip().split(':')
            if len(parts) == 3 and parts[0] == name:
                return int(parts[1]), int(parts[2])
    raise AssertionError('%s has no range in %s' % (name, path))


HOLD = r'''
import ctypes, time
TAG = %r
print(open('/proc/self/uid_map').read().split(), flush=True)
ctypes.CDLL(None).prctl(15, TAG.encode(), 0, 0, 0)
time.sleep(%f)
'''


def test_concurrent_runs_have_distinct_host_uids(stack):
    """While run A is alive, B runs; each jail's 1000 is a host uid of the
    service user's subordinate range, not the service's own, and the two
    differ (seen from inside in uid_map, from the host in /proc status)."""
    tag = 'ui' + secrets.token_hex(6)
    out = {}

    def a():
        out['a'] = _run(stack, HOLD % (tag, 4.0))

    t = threading.Thread(target=a, daemon=True)
    t.start()
    deadline = time.time() + 30
    while not _comm_pids(tag) and time.time() < deadline:
        time.sleep(0.05)
    pids = _comm_pids(tag)
    assert pids, 'run A did not start'
    host_a = _status_ids(pids[0], 'Uid')
    host_ga = _status_ids(pids[0], 'Gid')
    b = _run(stack, 'print(open("/proc/self/uid_map").read().split())\n'
             'import os\nprint(os.getuid(), os.getgid())\n')
    assert _comm_pids(tag), 'run A ended before B ran'
    t.join(60)
    svc = pwd.getpwnam('pyexec')
    ubase, ucount = _subid('/etc/subuid', 'pyexec')
    gbase, gcount = _subid('/etc/subgid', 'pyexec')
    map_a = eval(out['a'].splitlines()[0])
    map_b = eval(b.splitlines()[0])
    assert b.splitlines()[1] == '1000 1000', b
    assert map_a[0] == map_b[0] == '1000' and map_a[2] == map_b[2] == '1', \
        (map_a, map_b)
    ua, ub = int(map_a[1]), int(map_b[1])
    assert ua != ub, 'two concurrent runs share host uid %d' % ua
    for u in (ua, ub):
        assert u != svc.pw_uid and ubase <= u < ubase + ucount, \
            (u, svc.pw_uid, ubase, ucount)
    # From the host: A's process really is that uid (and a gid of the range).
    assert host_a == [ua] * 4, (host_a, ua)
    assert len(set(host_ga)) == 1 and gbase <= host_ga[0] < gbase + gcount, \
        host_ga


def test_workers_soft_nofile_is_hard(stack):
    """The stack starts the pool with a soft RLIMIT_NOFILE of 1024, as
    systemd does; every worker raises it to its hard limit."""
    workers = []
    for p in os.listdir('/proc'):
        try:
            if os.readlink('/proc/%s/exe' % p) == stack.binary:
                workers.append(p)
        except OSError:
            pass
    assert len(workers) >= stack.workers, workers
    for p in workers:
        with open('/proc/%s/limits' % p) as f:
            line = [l for l in f if l.startswith('Max open files')][0]
        soft, hard = line.split()[3:5]
        assert soft == hard, 'worker %s: %s' % (p, line)
    with open('/proc/%s/limits' % stack.procs[0].pid) as f:
        line = [l for l in f if l.startswith('Max open files')][0]
    assert line.split()[3] == '1024', 'the launcher: ' + line
