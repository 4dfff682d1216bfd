"""Outlive the deadline: ignore SIGTERM/SIGINT, in two processes."""
import time

from escape_util import assert_healthy, config, describe, details, run, \
    wait_no_jail_procs, worker_pids
from escape_util import grace, timed_out

CONFIG = config(time_limit_seconds=3)

ATTACK = ('print a line, then ignore and block SIGTERM, SIGINT, SIGHUP, '
          'SIGQUIT, SIGUSR1/2 and SIGXCPU in the script and a forked child, '
          'and sleep forever in both')
EXPECTED = ('400 TimeoutError within time_limit_seconds + a few seconds (stack.slack()), termination '
            '"timeout", the partial stdout kept; nothing left on the host; '
            'the worker survives')

CODE = r'''
import os, signal, sys, time
print('partial output before the hang', flush=True)
sys.stderr.write('partial stderr\n')
SIGS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT,
        signal.SIGUSR1, signal.SIGUSR2, signal.SIGXCPU, signal.SIGALRM)
for s in SIGS:
    signal.signal(s, signal.SIG_IGN)
signal.pthread_sigmask(signal.SIG_BLOCK, SIGS)
os.fork()
while True:
    time.sleep(0.5)
'''


def test(stack):
    tl = int(stack.config['time_limit_seconds'])
    workers = worker_pids(stack)
    t0 = time.time()
    status, doc = run(stack, CODE)
    took = time.time() - t0
    d = details(doc)
    assert timed_out(status, doc), describe(status, doc)
    assert d.get('termination') == 'timeout', describe(status, doc)
    assert 'partial output before the hang' in d.get('stdout', ''), d
    assert 'partial stderr' in d.get('stderr', ''), d
    assert took < tl + grace() + stack.slack(), \
        'took %.2fs with a %ds limit' % (took, tl)
    left = wait_no_jail_procs(stack, timeout=stack.slack(10))
    assert not left, left
    assert_healthy(stack, workers)
