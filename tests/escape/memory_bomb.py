"""Allocate far beyond memory_limit_mb in one process."""
import json

from escape_util import FAR_DEADLINE, PRELUDE, assert_healthy, config, \
    describe, details, report, run, worker_pids

# Filling memory_limit_mb page by page takes seconds on a machine slow at
# page faults: a far deadline, and the stack of test_limits_resources.py.
CONFIG = config(**FAR_DEADLINE)

ATTACK = ('one huge allocation (8x memory_limit_mb), a loop of 16 MiB '
          'touched allocations until failure, a numpy array of 8x the limit, '
          'then an uncaught 8x allocation')
EXPECTED = ('each allocation fails with MemoryError before the process holds '
            'more than memory_limit_mb, or (the touched loop, where a memory '
            'cgroup caps the run at memory_limit_mb and the interpreter\'s own '
            'pages count too) the run is stopped at its memory limit; the '
            'uncaught one ends the run with exit 1 and MemoryError on stderr; '
            'the worker survives and the next request is fine')

CAUGHT = r'''
LIMIT = %d << 20
R['one huge'] = attempt(bytearray, 8 * LIMIT)
import numpy
R['numpy'] = attempt(numpy.ones, (8 * LIMIT) // 8)
done()
'''

GROW = r'''
held = []
def grow():
    while True:
        held.append(b'\x01' * (16 << 20))     # written: really resident
        print(len(held) * 16, flush=True)
R['grow'] = attempt(grow)
R['grown MiB'] = len(held) * 16
del held[:]
done()
'''

UNCAUGHT = 'x = bytearray(%d << 23)\nprint("allocated")\n'


def test(stack):
    limit = int(stack.config.get('memory_limit_mb', 512))
    workers = worker_pids(stack)
    r = report(stack, CAUGHT % limit)
    for k in ('one huge', 'numpy'):
        assert r[k].startswith('exc:MemoryError') or r[k] == 'errno:ENOMEM', \
            '%s: %s' % (k, r[k])
    status, doc = run(stack, PRELUDE + GROW)
    d = details(doc)
    if d.get('termination') == 'memory_limit':
        # the memory cgroup stopped it (README: memory_limit_mb)
        assert d.get('oom_killed') is True, describe(status, doc)
        grown = [int(x) for x in (d.get('stdout') or '').split()
                 if x.isdigit()]
        assert not grown or grown[-1] <= limit, describe(status, doc)
    else:
        assert d.get('termination') == 'exited' and \
            d.get('exit_code') == 0, describe(status, doc)
        r = json.loads(d['stdout'].strip().splitlines()[-1])
        assert r['grow'].startswith('exc:MemoryError') or \
            r['grow'] == 'errno:ENOMEM', r
        assert r['grown MiB'] <= limit, 'held %d MiB' % r['grown MiB']
    status, doc = run(stack, UNCAUGHT % limit)
    d = details(doc)
    assert status == 200 and d.get('termination') == 'exited' and \
        d.get('exit_code') == 1 and 'MemoryError' in d.get('stderr', '') and \
        'allocated' not in d.get('stdout', ''), describe(status, doc)
    assert_healthy(stack, workers)
