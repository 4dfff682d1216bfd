"""Allocate far beyond memory_limit_mb in one process."""
from escape_util import FAR_DEADLINE, assert_healthy, config, describe, \
    details, report, \
    run, worker_pids

# Filling memory_limit_mb page by page takes seconds on a machine slow at
# page faults: a far deadline, and the stack of test_limits_resources.py.
CONFIG = config(**FAR_DEADLINE)

ATTACK = ('one huge allocation (8x memory_limit_mb), a loop of 16 MiB '
          'touched allocations until failure, a numpy array of 8x the limit, '
          'then an uncaught 8x allocation')
EXPECTED = ('each allocation fails with MemoryError before the process holds '
            'more than memory_limit_mb; the uncaught one ends the run with '
            'exit 1 and MemoryError on stderr; the worker survives and the '
            'next request is fine')

CAUGHT = r'''
LIMIT = %d << 20
R['one huge'] = attempt(bytearray, 8 * LIMIT)
held = []
def grow():
    while True:
        held.append(b'\x01' * (16 << 20))     # written: really resident
R['grow'] = attempt(grow)
R['grown MiB'] = len(held) * 16
del held[:]
import numpy
R['numpy'] = attempt(numpy.ones, (8 * LIMIT) // 8)
done()
'''

UNCAUGHT = 'x = bytearray(%d << 23)\nprint("allocated")\n'


def test(stack):
    limit = int(stack.config.get('memory_limit_mb', 512))
    workers = worker_pids(stack)
    r = report(stack, CAUGHT % limit)
    for k in ('one huge', 'grow', 'numpy'):
        assert r[k].startswith('exc:MemoryError') or r[k] == 'errno:ENOMEM', \
            '%s: %s' % (k, r[k])
    assert r['grown MiB'] <= limit, 'held %d MiB' % r['grown MiB']
    status, doc = run(stack, UNCAUGHT % limit)
    d = details(doc)
    assert status == 200 and d.get('termination') == 'exited' and \
        d.get('exit_code') == 1 and 'MemoryError' in d.get('stderr', '') and \
        'allocated' not in d.get('stdout', ''), describe(status, doc)
    assert_healthy(stack, workers)
