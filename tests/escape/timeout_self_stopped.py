"""Stop the script with SIGSTOP so nothing ever exits."""
import time

from escape_util import assert_healthy, config, describe, details, run, \
    wait_no_jail_procs, worker_pids
from escape_util import grace, timed_out

CONFIG = config(time_limit_seconds=3)

ATTACK = ('fork a child that SIGSTOPs its parent (the script) and then '
          'itself, after the script printed a line: every process of the run '
          'is stopped, none will ever exit')
EXPECTED = ('400 TimeoutError within time_limit_seconds + a few seconds (stack.slack()) with the '
            'partial stdout kept; nothing left on the host; worker survives')

CODE = r'''
import os, signal, sys, time
print('before stop', flush=True)
if os.fork() == 0:
    os.kill(os.getppid(), signal.SIGSTOP)
    os.kill(os.getpid(), signal.SIGSTOP)
    os._exit(0)
time.sleep(30)
'''


def test(stack):
    tl = int(stack.config['time_limit_seconds'])
    workers = worker_pids(stack)
    t0 = time.time()
    status, doc = run(stack, CODE)
    took = time.time() - t0
    d = details(doc)
    assert timed_out(status, doc) and d.get('termination') == 'timeout', \
        describe(status, doc)
    assert 'before stop' in d.get('stdout', ''), d
    assert took < tl + grace() + stack.slack(), 'took %.2fs' % took
    assert not wait_no_jail_procs(stack, timeout=stack.slack(10))
    assert_healthy(stack, workers)
