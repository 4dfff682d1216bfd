"""memfd_create: memory that neither RLIMIT_AS nor the workspace counts."""
from escape_util import assert_healthy, config, report, worker_pids

CONFIG = config(time_limit_seconds=3, memory_limit_mb=64,
                workspace_limit_mb=8)

ATTACK = ('create memfds and fill each up to RLIMIT_FSIZE without mapping '
          'them, trying to hold 4x (memory_limit_mb + workspace_limit_mb); '
          '(with the defaults, 256 fds x 64 MiB would be 16 GiB per process)')
EXPECTED = ('memfd_create is refused, or the run cannot hold more than '
            'memory_limit_mb + workspace_limit_mb of memory this way')

CODE = r'''
GOAL = %d << 20
chunk = b'\xa5' * (1 << 20)
held, fds = 0, []
R['first'] = attempt(os.memfd_create, 'probe')
try:
    while held < GOAL:
        fd = os.memfd_create('bloat')
        fds.append(fd)
        while held < GOAL:
            try:
                os.write(fd, chunk)
            except OSError as e:
                if e.errno == errno.EFBIG:
                    break
                raise
            held += len(chunk)
except OSError as e:
    R['stopped'] = _ename(e.errno)
R['held MiB'] = held >> 20
done()
'''


def test(stack):
    limit = int(stack.config['memory_limit_mb'])
    ws = int(stack.config['workspace_limit_mb'])
    workers = worker_pids(stack)
    r = report(stack, CODE % (4 * (limit + ws)))
    assert r['held MiB'] <= limit + ws, \
        ('a run held %d MiB in memfds (memory_limit_mb %d, workspace %d): '
         '%s' % (r['held MiB'], limit, ws, r))
    assert_healthy(stack, workers)
