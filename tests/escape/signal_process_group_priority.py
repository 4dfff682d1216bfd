"""setpriority(PRIO_PGRP, 0): renice the caller's process group."""

from escape_util import assert_healthy, config, report, worker_pids

CONFIG = config()

ATTACK = ('setpriority(PRIO_PGRP, 0, 19) and getpriority(PRIO_PGRP, 0) from '
          'the script: who=0 means the caller\'s process group, which the '
          'kernel does not filter by PID namespace, so without a new '
          'session the workers themselves would be reniced for good')
EXPECTED = ('only the run\'s own processes change: every worker and '
            'multiwatch keep nice 0 on the host')

CODE = r'''
PRIO_PGRP, PRIO_USER = 1, 2
R['setpriority pgrp'] = attempt(os.setpriority, PRIO_PGRP, 0, 19)
R['setpriority user'] = attempt(os.setpriority, PRIO_USER, 0, 19)
R['nice self'] = os.getpriority(os.PRIO_PROCESS, 0)
done()
'''


def nice_of(pid):
    with open('/proc/%d/stat' % pid) as f:
        s = f.read()
    return int(s[s.rindex(')') + 2:].split()[16])


def test(stack):
    workers = worker_pids(stack)
    watched = sorted(workers | {stack.procs[0].pid})
    before = {p: nice_of(p) for p in watched}
    r = report(stack, CODE)
    after = {p: nice_of(p) for p in watched}
    changed = {p: (before[p], after[p]) for p in watched
               if before[p] != after[p]}
    assert not changed, 'host processes reniced from a jail: %s' % changed
    assert r['nice self'] == 19, r
    assert_healthy(stack, workers)
