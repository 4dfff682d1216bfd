"""Split a memory bomb over max_processes processes."""
import re

from escape_util import assert_healthy, config, describe, details, PRELUDE, \
    run, worker_pids

CONFIG = config(time_limit_seconds=3, memory_limit_mb=64,
                workspace_limit_mb=8)

ATTACK = ('fork max_processes-1 children; each writes 3/4 of memory_limit_mb '
          'of real (touched) memory and keeps it while the others do the '
          'same; the script prints the running total held at once')
EXPECTED = ('the run as a whole cannot hold much more than memory_limit_mb '
            '(asserted: at most 1.5x), whether the children get MemoryError '
            'or the run is killed; RLIMIT_AS alone is per process, so this '
            'needs a per-run limit (a memory cgroup)')

CODE = r'''
import select
N, EACH = %d, %d << 20
r, w = os.pipe()
go_r, go_w = os.pipe()
for i in range(N):
    if os.fork() == 0:
        try:
            block = b'\x01' * EACH
            os.write(w, b'+')
        except MemoryError:
            os.write(w, b'-')
        os.read(go_r, 1)            # hold it until the parent has counted
        os._exit(0)
os.close(w)
held = 0
while True:
    ready, _, _ = select.select([r], [], [], 1.0)
    if not ready:
        break
    b = os.read(r, 1)
    if not b:
        break
    if b == b'+':
        held += EACH >> 20
        print('held MiB', held, flush=True)
os.write(go_w, b'x' * N)
'''


def test(stack):
    limit = int(stack.config['memory_limit_mb'])
    nproc = int(stack.config.get('max_processes', 10))
    workers = worker_pids(stack)
    status, doc = run(stack, PRELUDE + CODE % (nproc - 1, limit * 3 // 4))
    d = details(doc)
    assert d, describe(status, doc)
    held = [int(x) for x in re.findall(r'held MiB (\d+)', d['stdout'])]
    top = max(held or [0])
    assert top <= limit * 1.5, \
        ('the run held %d MiB at once across %d processes with '
         'memory_limit_mb %d' % (top, len(held), limit))
    assert_healthy(stack, workers)
