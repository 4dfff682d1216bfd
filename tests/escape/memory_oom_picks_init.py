"""Memory no process owns (tmpfs, socket buffers) and the OOM killer."""
from escape_util import assert_healthy, config, describe, details, run, \
    worker_pids

CONFIG = config(time_limit_seconds=20, memory_limit_mb=64,
                workspace_limit_mb=512)

ATTACK = ('print a line, then exec dd (a process of about 1 MiB) to fill '
          '/tmp (tmpfs: charged to the run\'s memory cgroup but to no '
          'process) past memory_limit_mb, so that the script\'s only '
          'process is far smaller than the jail\'s init and the OOM killer '
          'would pick init')
EXPECTED = ('the script\'s process is killed, not init: 200 with termination '
            'memory_limit, oom_killed true, and the output printed before')

CODE = r'''
import os
print('started', flush=True)
os.execv('/usr/bin/dd', ['dd', 'if=/dev/zero', 'of=/tmp/fill', 'bs=1M',
                         'count=400', 'status=none'])
'''


def test(stack):
    if not stack.cgroups:
        return      # no per-run memory cgroup on this host: nothing to kill
    workers = worker_pids(stack)
    status, doc = run(stack, CODE)
    d = details(doc)
    assert status == 200 and d.get('termination') == 'memory_limit' and \
        d.get('oom_killed') is True, describe(status, doc)
    assert d['stdout'].startswith('started\n'), describe(status, doc)
    assert_healthy(stack, workers)
