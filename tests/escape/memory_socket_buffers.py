"""Unix socket buffers: kernel memory that RLIMIT_AS does not count."""
import re

from escape_util import assert_healthy, config, describe, details, PRELUDE, \
    run, worker_pids

CONFIG = config(time_limit_seconds=3, memory_limit_mb=64,
                workspace_limit_mb=8)

ATTACK = ('one process creates socketpairs and fills both directions until '
          'the send buffers are full; once RLIMIT_NOFILE is near, it parks '
          'filled pairs in flight (SCM_RIGHTS into a carrier socket) and '
          'closes them to free descriptors; it prints the running total of '
          'bytes queued')
EXPECTED = ('a single process cannot hold more than memory_limit_mb + '
            'workspace_limit_mb this way (it fails or is killed first); the '
            'queued bytes live in kernel socket buffers, which RLIMIT_AS '
            'never sees, so this needs per-run memory accounting (a memory '
            'cgroup charges socket memory)')

CODE = r'''
import array, socket
def fill(a, b):
    n = 0
    for s in (a, b):
        s.setblocking(False)
        try:
            while True:
                n += s.send(b'x' * 65536)
        except BlockingIOError:
            pass
    return n
carrier_a, carrier_b = socket.socketpair()
carrier_a.setblocking(False)
total, kept = 0, []
for i in range(1000):
    try:
        a, b = socket.socketpair()
    except OSError as e:
        print('stopped', _ename(e.errno), flush=True)
        break
    total += fill(a, b)
    try:
        fds = array.array('i', [a.fileno(), b.fileno()])
        carrier_a.sendmsg([b'x'], [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                                    fds)])
        a.close()
        b.close()
    except OSError:
        kept.append((a, b))
    print('held MiB', total >> 20, flush=True)
'''


def test(stack):
    limit = int(stack.config['memory_limit_mb'])
    ws = int(stack.config['workspace_limit_mb'])
    workers = worker_pids(stack)
    status, doc = run(stack, PRELUDE + CODE)
    d = details(doc)
    assert d, describe(status, doc)
    top = max([int(x) for x in re.findall(r'held MiB (\d+)', d['stdout'])]
              or [0])
    assert top <= limit + ws, \
        ('one process queued %d MiB in socket buffers (memory_limit_mb %d, '
         'workspace %d)' % (top, limit, ws))
    assert_healthy(stack, workers)
