"""Fork bomb, while another request needs its own process budget."""
import time

from escape_util import assert_healthy, Background, config, describe, \
    details, jail_pids, report, wait_no_jail_procs, worker_pids
from escape_util import grace, keepers, timed_out

# The default 10 s limit: B must run while A's bomb is still alive, even
# on a machine where starting a run takes a second.
CONFIG = config()

ATTACK = ('request A runs a fork bomb (every process forks in a loop, '
          'ignoring failures); while A holds all the processes it can, '
          'request B forks max_processes-1 children that stay alive together, '
          'then tries one more')
EXPECTED = ('A is capped at its own max_processes and ends by the deadline '
            '(400 TimeoutError) with nothing left on the host; B gets exactly '
            'max_processes-1 children (the next fork fails with EAGAIN) and '
            'succeeds; the workers survive')

# The bomb runs at the lowest CPU priority: this test is about the process
# budget, and B must not be starved of CPU on a machine with little of it.
BOMB = r'''
import os
os.nice(19)
while True:
    try:
        os.fork()
    except OSError:
        pass
'''

BUDGET = r'''
import time
N = %d
kids, errs = [], []
for i in range(N):
    try:
        pid = os.fork()
    except OSError as e:
        errs.append(_ename(e.errno))
        continue
    if pid == 0:
        time.sleep(1.0)
        os._exit(0)
    kids.append(pid)
R['forked'] = len(kids)
R['errors'] = errs
R['one more'] = attempt(os.fork)
if R['one more'].startswith('ok:0'):
    os._exit(0)
R['exits'] = [os.waitstatus_to_exitcode(os.waitpid(p, 0)[1]) for p in kids]
done()
'''


def test(stack):
    nproc = int(stack.config.get('max_processes', 10))
    workers = worker_pids(stack)
    a = Background(stack, BOMB)
    a.start()
    deadline = time.time() + stack.slack()
    while len(jail_pids(stack)) < nproc and time.time() < deadline:
        time.sleep(0.02)
    held = len(jail_pids(stack))
    assert held >= nproc, 'the bomb did not get going (%d processes)' % held
    t0 = time.time()
    r = report(stack, BUDGET % (nproc - 1))
    elapsed = time.time() - t0
    bomb_size = len(jail_pids(stack))
    status, doc, secs = a.get()
    assert r['forked'] == nproc - 1 and r['errors'] == [], \
        'B could not use its budget during the bomb: %s' % r
    assert r['one more'] == 'errno:EAGAIN', \
        'B could exceed max_processes: %s' % r['one more']
    assert r['exits'] == [0] * (nproc - 1), r
    assert timed_out(status, doc), describe(status, doc)
    tl = int(stack.config.get('time_limit_seconds', 10))
    assert secs < tl + grace() + stack.slack(), \
        'the bomb took %.1fs to stop' % secs
    # A's own tree: its init plus at most max_processes processes (B's
    # were alive at the same time, hence the second term), and in a
    # session its keeper, outside the jail.
    assert held <= nproc + 1 + keepers() and \
        bomb_size <= 2 * (nproc + 1 + keepers()), (held, bomb_size)
    left = wait_no_jail_procs(stack, timeout=stack.slack())
    assert not left, 'processes left after the bomb: %s' % left
    assert_healthy(stack, workers)
    # B sleeps 1 s; it must not wait for A's deadline.
    assert elapsed < min(1 + stack.slack(), tl - 1), 'B took %.1fs' % elapsed
