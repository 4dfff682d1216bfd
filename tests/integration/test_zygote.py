"""mode = zygote: the warm interpreter holds no secret, forgets nothing it
should not know, and is replaced without failing requests."""
import os
import re
import signal
import time

from helpers import ok

MODES = ('zygote',)
CONFIG = {'zygote_max_runs': 2}


def zygote_pids(s):
    return [int(p) for p in re.findall(r'zygote (\d+) ready', s.worker_log_text())]


def live_zygotes(s):
    out = []
    for pid in zygote_pids(s):
        try:
            with open('/proc/%d/cmdline' % pid, 'rb') as f:
                if f.read().startswith(b'pyexec-zygote'):
                    out.append(pid)
        except OSError:
            pass
    return out


def scan_process(pid, needles):
    """Reads every readable mapping of pid (we are root on the host)."""
    found = set()
    with open('/proc/%d/maps' % pid) as maps, open('/proc/%d/mem' % pid, 'rb', 0) as mem:
        for line in maps:
            addr, perms = line.split()[:2]
            if 'r' not in perms:
                continue
            start, end = (int(x, 16) for x in addr.split('-'))
            try:
                mem.seek(start)
                data = mem.read(end - start)
            except (OSError, ValueError, OverflowError):
                continue
            for n in needles:
                if n in data:
                    found.add(n)
    return found


def check_zygote(s, pid, needles):
    leaked = scan_process(pid, needles)
    assert not leaked, 'zygote %d memory holds %s' % (pid, leaked)
    with open('/proc/%d/environ' % pid, 'rb') as f:
        env = f.read()
    assert s.admin_key.encode() not in env and b'CREDENTIALS' not in env, env
    fds = sorted(int(x) for x in os.listdir('/proc/%d/fd' % pid))
    kinds = [os.readlink('/proc/%d/fd/%d' % (pid, fd)) for fd in fds]
    assert fds[:4] == [0, 1, 2, 3], (fds, kinds)
    # Past its control socket: the thin init's image (jail/thin.c),
    # read-only, and the network namespaces it made for overlapping runs'
    # lanes (zygote.c, enter_lane_netns); nothing else.
    thin = [fd for fd, k in zip(fds, kinds)
            if k.startswith('/memfd:pyexec-thin-init')]
    assert len(thin) == 1, kinds
    assert all(k.startswith('net:[') for fd, k in zip(fds[4:], kinds[4:])
               if fd != thin[0]), kinds
    with open('/proc/%d/fdinfo/%d' % (pid, thin[0])) as f:
        flags = int(f.read().split('flags:')[1].split()[0], 8)
    assert flags & os.O_ACCMODE == os.O_RDONLY, oct(flags)
    assert kinds[0] == '/dev/null' and kinds[3].startswith('socket:'), kinds
    # fd 3 is its control socket, not the FastCGI socket nginx talks to
    assert not any(s.sock in k for k in kinds), kinds


def test_recycled_after_max_runs(s):
    before = len(zygote_pids(s))
    for i in range(12):
        d = ok(s.execute({'code': 'print(%d)' % i}))
        assert d['stdout'] == '%d\n' % i
    assert len(zygote_pids(s)) >= before + 2, s.worker_log_text()[-1500:]


def test_zygote_killed_between_requests(s):
    ok(s.execute({'code': 'pass'}))
    for pid in live_zygotes(s):
        os.kill(pid, signal.SIGKILL)
    time.sleep(0.2)
    for i in range(5):   # every worker meets a dead zygote once
        d = ok(s.execute({'code': 'print("after")'}))
        assert d['stdout'] == 'after\n'


def test_fresh_randomness_numpy(s):
    seen = set()
    for _ in range(4):
        d = ok(s.execute({'code': 'import numpy\nprint(numpy.random.rand(), numpy.random.randint(1 << 30))'}))
        seen.add(d['stdout'])
    assert len(seen) == 4, seen


def test_numpy_reseed_of_a_scripts_own_fork(s):
    # A run's own numpy state is written straight into the generator once,
    # at its start; the script's own forks reseed through set_state: a
    # cached Gaussian is dropped (parent and child draw different ones),
    # and a generator the script replaced and freed is never written.
    d = ok(s.execute({'code': (
        'import os, numpy as np\n'
        'np.random.randn()\n'
        'r, w = os.pipe()\n'
        'pid = os.fork()\n'
        'if pid == 0:\n'
        '    os.write(w, repr(np.random.randn()).encode())\n'
        '    os._exit(0)\n'
        'os.close(w)\n'
        'child = os.read(r, 100).decode()\n'
        'os.waitpid(pid, 0)\n'
        'print(child != repr(np.random.randn()))\n'
        'np.random.set_bit_generator(np.random.PCG64())\n'
        'import gc\n'
        'gc.collect()\n'
        'junk = [bytearray(b"A" * 2600) for _ in range(3000)]\n'
        'pid = os.fork()\n'
        'if pid == 0:\n'
        '    os._exit(sum(b.count(b"A") != len(b) for b in junk) and 1)\n'
        'print(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))\n'),
        'api_key': s.admin_key}))
    assert d['stdout'] == 'True\n0\n', d


def _jail_pythons():
    """Pids of processes that are PID 2 of a nested PID namespace: the
    Python child of a jail's init (the host sees every stack's jails; the
    test only needs one of its own to exist)."""
    out = []
    for p in os.listdir('/proc'):
        if not p.isdigit():
            continue
        try:
            with open('/proc/%s/status' % p) as f:
                for line in f:
                    if line.startswith('NSpid:'):
                        if line.split()[-1] == '2' and len(line.split()) > 2:
                            out.append(int(p))
                        break
        except OSError:
            pass
    return out


def test_run_survives_its_zygote_killed_mid_run(s):
    # The zygote clones each jail as the worker's child: killing the zygote
    # while a run is in flight must not kill or misreport the run (before,
    # the jail's init died with its parent zygote: 500 SandboxError after
    # the code had printed, or "signaled 9").
    import threading
    ok(s.execute({'code': 'pass'}))
    before = set(_jail_pythons())
    res = {}
    code = 'import time\nprint("started", flush=True)\ntime.sleep(4)\nprint("done")\n'
    t = threading.Thread(target=lambda: res.update(r=s.execute({'code': code})))
    t.start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not set(_jail_pythons()) - before:
        time.sleep(0.01)
    assert set(_jail_pythons()) - before, 'the run never started'
    for pid in live_zygotes(s):
        os.kill(pid, signal.SIGKILL)
    t.join()
    d = ok(res['r'])
    assert d['stdout'] == 'started\ndone\n', d
    assert d['termination'] == 'exited' and d['exit_code'] == 0, d
    # and the worker goes on with a new zygote
    d = ok(s.execute({'code': 'print("after")'}))
    assert d['stdout'] == 'after\n'
