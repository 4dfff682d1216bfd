"""memfd_create: memory that neither RLIMIT_AS nor the workspace counts."""
import re

from escape_util import assert_healthy, config, describe, details, PRELUDE, \
    run, worker_pids

# 96, not 64: in zygote mode RLIMIT_AS also counts the interpreter's
# inherited mappings (about 63 MiB here), so 64 left the script under
# 1 MiB and it died of MemoryError before the attack began.
CONFIG = config(time_limit_seconds=3, memory_limit_mb=96,
                workspace_limit_mb=8)

ATTACK = ('create memfds and fill each up to RLIMIT_FSIZE without mapping '
          'them, trying to hold 4x (memory_limit_mb + workspace_limit_mb), '
          'printing the running total; with the defaults, 256 fds x 64 MiB '
          'would be 16 GiB per process')
EXPECTED = ('memfd_create is refused (EPERM), or the run cannot hold more '
            'than memory_limit_mb + workspace_limit_mb this way (it fails or '
            'is killed first)')

CODE = r'''
GOAL = %d << 20
chunk = b'\xa5' * (1 << 20)
held, fds = 0, []
print('first', attempt(os.memfd_create, 'probe'), flush=True)
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
            print('held MiB', held >> 20, flush=True)
except OSError as e:
    print('stopped', _ename(e.errno))
'''


def test(stack):
    limit = int(stack.config['memory_limit_mb'])
    ws = int(stack.config['workspace_limit_mb'])
    workers = worker_pids(stack)
    status, doc = run(stack, PRELUDE + CODE % (4 * (limit + ws)))
    d = details(doc)
    assert d and 'first' in d['stdout'], describe(status, doc)
    top = max([int(x) for x in re.findall(r'held MiB (\d+)', d['stdout'])]
              or [0])
    assert top <= limit + ws, \
        ('a run held %d MiB in memfds (memory_limit_mb %d, workspace %d)'
         % (top, limit, ws))
    assert_healthy(stack, workers)
