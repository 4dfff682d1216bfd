"""See a concurrent request's workspace, files or processes."""
import os
import secrets
import signal
import time

from escape_util import assert_healthy, Background, config, describe, \
    details, host_comm, jail_pids, report, worker_pids
from escape_util import work_files

CONFIG = config()

ATTACK = ('request A writes marker files in /work and /tmp and keeps two '
          'named processes alive (comm set with PR_SET_NAME); while A is '
          'verifiably running (its processes are on the host), request B '
          'lists /proc (comm and cmdline of every pid), /work, /tmp and '
          'tries A\'s paths, /proc/<pid>/root and /proc/<pid>/cwd of every '
          'pid it sees')
EXPECTED = ('B sees only its own init (1) and itself; none of A\'s files, '
            'names or processes; both requests succeed')

# A's two processes stay until the test, from the host, sends them SIGUSR1
# once B is done (or for `hold` seconds at most): no guess at how long B
# takes on this machine.
A_CODE = r'''
import ctypes, os, signal
TAG = %r
for d in ('/work', '/tmp'):
    open(os.path.join(d, TAG), 'w').write('A was here')
libc = ctypes.CDLL(None)
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
if os.fork() == 0:
    libc.prctl(15, TAG[:15].encode(), 0, 0, 0)   # PR_SET_NAME
    signal.sigtimedwait({signal.SIGUSR1}, %f)
    os._exit(0)
libc.prctl(15, TAG[:15].encode(), 0, 0, 0)
signal.sigtimedwait({signal.SIGUSR1}, %f)
print('A done', os.listdir('/work'))
'''

B_CODE = r'''
TAG = %r
procs = {}
for p in os.listdir('/proc'):
    if p.isdigit():
        procs[p] = [attempt(lambda: open('/proc/%%s/comm' %% p).read()),
                    attempt(lambda: open('/proc/%%s/cmdline' %% p).read()),
                    attempt(os.listdir, '/proc/%%s/cwd' %% p),
                    attempt(os.listdir, '/proc/%%s/root/work' %% p)]
R['procs'] = procs
R['self'] = os.getpid()
R['work'] = sorted(os.listdir('/work'))
R['tmp'] = sorted(os.listdir('/tmp'))
R['read A work'] = attempt(open, '/work/' + TAG)
R['read A tmp'] = attempt(open, '/tmp/' + TAG)
done()
'''


def test(stack):
    tag = 'esc' + secrets.token_hex(6)   # fits in comm (15 chars)
    workers = worker_pids(stack)
    tl = int(stack.config.get('time_limit_seconds', 10))
    hold = tl - 1.5
    a = Background(stack, A_CODE % (tag, hold, hold))
    a.start()
    while len(host_comm(tag)) < 2 and a.is_alive():
        time.sleep(0.05)
    assert len(host_comm(tag)) >= 2, 'request A did not start its processes'
    r = report(stack, B_CODE % tag)
    # A was still running while B looked.
    running = host_comm(tag)
    for pid in running:
        try:
            os.kill(int(pid), signal.SIGUSR1)
        except ProcessLookupError:
            pass
    assert len(running) >= 2, 'request A ended before B finished'
    status, doc, _ = a.get()
    assert status == 200 and details(doc).get('exit_code') == 0, \
        describe(status, doc)
    assert sorted(r['procs']) == ['1', str(r['self'])], \
        'B sees these pids: %s' % r['procs']
    raw = repr(r)
    assert tag not in raw, \
        'B saw something of A: %s' % raw[:3000]
    # exec mode: /tmp/.matplotlib is the run's own read-only font list
    assert r['work'] == work_files() and \
        [n for n in r['tmp'] if n != '.matplotlib'] == [], r
    assert r['read A work'] == 'errno:ENOENT', r
    assert r['read A tmp'] == 'errno:ENOENT', r
    assert not host_comm(tag), 'A\'s processes outlived A: %s' % host_comm(tag)
    assert not jail_pids(stack)
    assert_healthy(stack, workers)
