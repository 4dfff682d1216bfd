"""Daemons that ignore signals, double-fork and setsid, sleeping forever."""
import secrets
import time

from escape_util import keepers
from escape_util import assert_healthy, config, host_comm, jail_pids, report, \
    run_ok, wait_no_jail_procs, worker_pids

CONFIG = config()

ATTACK = ('double-fork two setsid daemons that ignore every catchable signal, '
          'block them too, become child subreapers, rename themselves, one '
          'closing stdio and one keeping stdout open; the script exits as '
          'soon as both report they are up')
EXPECTED = ('the request returns promptly (200, exited); no daemon survives: '
            'nothing is left below the workers on the host, no process of '
            'that name exists anywhere on the host, and the next run\'s '
            '/proc shows only its own init and itself')

CODE = r'''
import ctypes, os, signal, time
TAG = %r
libc = ctypes.CDLL(None)
r, w = os.pipe()
def daemon(close_stdio):
    if os.fork():
        return
    os.setsid()
    if os.fork():
        os._exit(0)
    for s in signal.Signals:
        if s not in (signal.SIGKILL, signal.SIGSTOP):
            try:
                signal.signal(s, signal.SIG_IGN)
            except (OSError, ValueError):
                pass
    signal.pthread_sigmask(signal.SIG_BLOCK, set(signal.Signals))
    libc.prctl(36, 1, 0, 0, 0)                 # PR_SET_CHILD_SUBREAPER
    libc.prctl(15, TAG.encode(), 0, 0, 0)      # PR_SET_NAME
    if close_stdio:
        for fd in (0, 1, 2):
            os.close(fd)
    os.write(w, b'+')
    while True:
        time.sleep(3600)
daemon(True)
daemon(False)
got = b''
while len(got) < 2:
    got += os.read(r, 2)
os.wait()
os.wait()
print('daemons up', got)
'''


def test(stack):
    tag = 'dmn' + secrets.token_hex(6)
    workers = worker_pids(stack)
    t0 = time.time()
    d = run_ok(stack, CODE % tag)
    took = time.time() - t0
    assert 'daemons up' in d['stdout'], d
    # Far below the 10 s deadline a worker waiting on the daemons would hit.
    tl = int(stack.config.get('time_limit_seconds', 10))
    assert took < min(stack.slack(), tl - 1), 'the request took %.1fs' % took
    left = wait_no_jail_procs(stack, timeout=stack.slack(10))
    assert not left, 'processes left below the workers: %s' % left
    assert not host_comm(tag), 'daemons alive on the host: %s' % host_comm(tag)
    r = report(stack, "R['pids'] = sorted(p for p in os.listdir('/proc') "
               "if p.isdigit()); R['self'] = os.getpid(); done()")
    assert r['pids'] == sorted(['1', str(r['self'])]), r
    # In a session the released session's keeper (the service's, outside
    # the jail) may still be finishing after DELETE's answer; the jail's
    # processes are gone by then.
    assert not wait_no_jail_procs(stack, timeout=stack.slack(10) if keepers()
                                  else 0)
    assert_healthy(stack, workers)
