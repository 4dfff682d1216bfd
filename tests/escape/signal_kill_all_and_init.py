"""kill(-1, SIGKILL) and signals to the jail's init (PID 1)."""
from escape_util import assert_healthy, config, describe, details, report, \
    run, wait_no_jail_procs, worker_pids

CONFIG = config()

ATTACK = ('fork three sleeping children, kill(-1, SIGKILL); then send '
          'SIGKILL, SIGTERM, SIGSTOP, SIGINT, SIGSEGV, SIGHUP to PID 1 with '
          'kill() and pidfd_send_signal(); finally kill(-1, SIGKILL) followed '
          'by killing itself')
EXPECTED = ('kill(-1) kills the children only (never the caller, never '
            'init, never anything outside the jail); init ignores every '
            'signal from inside (it stays alive and running) and the run '
            'exits 0; the last run reports termination "signaled", signal 9; '
            'the workers survive')

CODE = r'''
import time
kids = []
for i in range(3):
    pid = os.fork()
    if pid == 0:
        time.sleep(30)
        os._exit(0)
    kids.append(pid)
R['kill -1'] = attempt(os.kill, -1, signal.SIGKILL)
R['children'] = [signal.Signals(os.WTERMSIG(os.waitpid(p, 0)[1])).name
                 for p in kids]
for s in (signal.SIGKILL, signal.SIGTERM, signal.SIGSTOP, signal.SIGINT,
          signal.SIGSEGV, signal.SIGHUP):
    R['kill 1 ' + s.name] = attempt(os.kill, 1, s)
fd = os.pidfd_open(1)
R['pidfd kill 1'] = attempt(signal.pidfd_send_signal, fd, signal.SIGKILL)
time.sleep(0.2)
st = open('/proc/1/stat').read()
R['init state'] = st[st.rindex(')') + 2]
R['init alive'] = attempt(os.kill, 1, 0)
R['pids'] = sorted(p for p in os.listdir('/proc') if p.isdigit())
done()
'''

SUICIDE = r'''
import os, signal
print('about to die', flush=True)
try:
    os.kill(-1, signal.SIGKILL)       # nothing else to kill: ESRCH
except ProcessLookupError:
    pass
os.kill(os.getpid(), signal.SIGKILL)
print('still here')
'''


def test(stack):
    workers = worker_pids(stack)
    r = report(stack, CODE)
    assert r['kill -1'] == 'ok:None', r
    assert r['children'] == ['SIGKILL'] * 3, r
    for k, v in r.items():
        if k.startswith('kill 1') or k == 'pidfd kill 1':
            assert v == 'ok:None', (k, v)   # delivered, and ignored
    assert r['init state'] == 'S' and r['init alive'] == 'ok:None', r
    assert r['pids'] == ['1', '2'], r
    assert not wait_no_jail_procs(stack, timeout=stack.slack(10))
    status, doc = run(stack, SUICIDE)
    d = details(doc)
    assert status == 200 and d.get('termination') == 'signaled' and \
        d.get('signal') == 9 and 'still here' not in d.get('stdout', '') \
        and 'about to die' in d.get('stdout', ''), describe(status, doc)
    assert_healthy(stack, workers)
