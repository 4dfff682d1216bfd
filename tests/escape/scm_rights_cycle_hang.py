"""Keep stdout open past death: its write end in an SCM_RIGHTS cycle."""
import time

from escape_util import assert_healthy, config, describe, details, run, \
    wait_no_jail_procs, worker_pids

# The default 10 s limit: the bound below is far from it even on a machine
# where a run costs a second.
CONFIG = config()

ATTACK = ('a child puts the write ends of stdout and stderr, and each end of '
          'a socketpair, into the other end\'s receive queue (SCM_RIGHTS), '
          'keeps both sockets open and sleeps; the script exits at once. '
          'When the jail dies the pipes are still referenced by the '
          'in-flight cycle, which only the kernel\'s Unix-socket garbage '
          'collector frees, whenever some unrelated Unix socket is closed '
          'on the host: a worker that waits for EOF on stdout waits for '
          'that')
EXPECTED = ('the request returns as soon as the script exits (well within '
            'the time limit), termination "exited", stdout kept; twice in a '
            'row; the worker survives')

CODE = r'''
import array, os, socket, time
def send_fds(sock, fds):
    sock.sendmsg([b'x'], [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                           array.array('i', fds))])
r, w = os.pipe()
if os.fork() == 0:
    os.close(r)
    os.setsid()
    a, b = socket.socketpair()
    send_fds(a, [a.fileno(), 1, 2])   # queued on b: a, stdout, stderr
    send_fds(b, [b.fileno()])         # queued on a: b
    os.close(0); os.close(1); os.close(2)
    os.write(w, b'k')
    time.sleep(1000)                  # keep a and b open until killed
os.close(w)
print('daemon ready:', os.read(r, 1).decode(), flush=True)
'''


def test(stack):
    workers = worker_pids(stack)
    tl = int(stack.config.get('time_limit_seconds', 10))
    # Well before the deadline: a worker that waits for it fails.
    bound = min(stack.slack(), tl - 1)
    for attempt in range(2):
        t0 = time.time()
        status, doc = run(stack, CODE, timeout=120)
        took = time.time() - t0
        d = details(doc)
        assert status == 200 and d.get('termination') == 'exited' and \
            d.get('exit_code') == 0, \
            'attempt %d, %.1fs: %s' % (attempt, took, describe(status, doc))
        assert 'daemon ready: k' in d['stdout'], d
        assert took < bound, 'attempt %d took %.1fs' % (attempt, took)
        assert not wait_no_jail_procs(stack, timeout=stack.slack(10))
    assert_healthy(stack, workers)
