"""Split a memory bomb over max_processes processes."""
from escape_util import assert_healthy, config, report, worker_pids

CONFIG = config(time_limit_seconds=3, memory_limit_mb=64,
                workspace_limit_mb=8)

ATTACK = ('fork max_processes-1 children; each writes 3/4 of memory_limit_mb '
          'of real (touched) memory and keeps it while the others do the '
          'same; sum what was held at once')
EXPECTED = ('the run as a whole cannot hold much more than memory_limit_mb '
            '(asserted: at most 1.5x); RLIMIT_AS alone is per process, so '
            'this needs a per-run limit (memory cgroup)')

CODE = r'''
import time
N, EACH = %d, %d << 20
r, w = os.pipe()
go_r, go_w = os.pipe()
kids = []
for i in range(N):
    pid = os.fork()
    if pid == 0:
        try:
            block = b'\x01' * EACH
            os.write(w, b'+')
        except MemoryError:
            os.write(w, b'-')
        os.read(go_r, 1)            # hold it until every child reported
        os._exit(0)
    kids.append(pid)
got = b''
while len(got) < N:
    got += os.read(r, N)
os.write(go_w, b'x' * N)
for p in kids:
    os.waitpid(p, 0)
R['children holding'] = got.count(b'+')
R['held MiB'] = got.count(b'+') * (EACH >> 20)
done()
'''


def test(stack):
    limit = int(stack.config['memory_limit_mb'])
    nproc = int(stack.config.get('max_processes', 10))
    workers = worker_pids(stack)
    r = report(stack, CODE % (nproc - 1, limit * 3 // 4))
    assert r['held MiB'] <= limit * 1.5, \
        ('the run held %d MiB at once across %d processes with '
         'memory_limit_mb %d' % (r['held MiB'], r['children holding'], limit))
    assert_healthy(stack, workers)
