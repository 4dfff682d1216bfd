"""kill(0, SIGKILL): signal the caller's process group."""
from escape_util import config, describe, details, multiwatch_pid, \
    proc_table, run, worker_pids

# Its own stack: if the attack works, it takes the whole pool down.
CONFIG = config(time_limit_seconds=5)

ATTACK = ('kill(0, SIGKILL) from the script. kill(0) targets the caller\'s '
          'process group, which the kernel does not filter by PID '
          'namespace: unless the jail starts a new session, that group is '
          'the worker pool\'s (spawn-fcgi/multiwatch and every worker)')
EXPECTED = ('only processes of the run die: the script itself (termination '
            '"signaled", signal 9); multiwatch and every worker are untouched '
            'and the next request is served')

CODE = r'''
import os, signal
print('pgrp', os.getpgrp(), 'sid', os.getsid(0), flush=True)
os.kill(0, signal.SIGKILL)
print('still here')
'''


def test(stack):
    workers = worker_pids(stack)
    mw = multiwatch_pid(stack)
    status, doc = run(stack, CODE)
    table = proc_table()
    assert mw in table, 'multiwatch (pid %d) was killed: the pool is gone' % mw
    now = worker_pids(stack, table)
    assert workers <= now, ('workers killed from inside a jail: %s'
                            % sorted(workers - now))
    d = details(doc)
    assert status == 200 and d.get('termination') == 'signaled' and \
        d.get('signal') == 9, describe(status, doc)
    d = details(run(stack, 'print(6 * 7)')[1])
    assert d.get('stdout') == '42\n', d
