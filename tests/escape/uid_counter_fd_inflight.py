"""Exhaust the per-user count of fds in flight for every other run."""
import secrets
import time

from escape_util import assert_healthy, Background, config, describe, \
    details, host_comm, worker_pids

CONFIG = config()
# The pool's fd limit as systemd gave it before LimitNOFILE= (soft 1024),
# with the hard limit at 1024 too, so that the worker raising its soft
# limit does not hide the attack: only per-run uids can stop it.
NOFILE = (1024, 1024)

ATTACK = ('request A fills a datagram socket\'s queue, then eight threads '
          'each send 250 copies of a pipe fd (SCM_RIGHTS) and block on the '
          'full queue, having passed the kernel\'s fds-in-flight check; A '
          'drains the queue so all of them enqueue: about 2,000 fds in '
          'flight, counted per host uid, more than the workers\' and '
          'jails\' RLIMIT_NOFILE (1024), beyond which the kernel refuses '
          'every SCM_RIGHTS of that uid (the workspace fd, the pipes for '
          'the zygote). While A holds them, four other requests run')
EXPECTED = ('the others succeed with their exact output (their uids differ '
            'from A\'s); no worker or zygote restarts')

A_CODE = r'''
import array, ctypes, os, socket, threading, time
TAG = %r
rx = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
rx.bind('\0pyx-flood-' + TAG)
tx = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
tx.connect('\0pyx-flood-' + TAG)
tx.setblocking(False)
empties = 0
try:
    while True:
        tx.send(b'e')
        empties += 1
except BlockingIOError:
    pass
tx.setblocking(True)
r, w = os.pipe()
fds = array.array('i', [r] * 250)
sent, errs = [], []
def sender():
    try:
        tx.sendmsg([b'f'], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, fds)])
        sent.append(1)
    except OSError as e:
        errs.append(e.errno)
threads = [threading.Thread(target=sender, daemon=True) for _ in range(8)]
for t in threads:
    t.start()
time.sleep(1.0)                 # all blocked on the full queue
for _ in range(empties):
    rx.recv(1)                  # FIFO: only the empty datagrams
for t in threads:
    t.join(5)
print('in flight', 250 * len(sent), 'refused', errs, flush=True)
ctypes.CDLL(None).prctl(15, TAG.encode(), 0, 0, 0)     # PR_SET_NAME: ready
time.sleep(%f)
'''

B_CODE = 'import sys\nprint("run %d ok")\nprint("e", file=sys.stderr)\n'


def test(stack):
    tag = 'fl' + secrets.token_hex(6)
    workers = worker_pids(stack)
    zlog = stack.worker_log_text().count('ready\n')
    a = Background(stack, A_CODE % (tag, 6.0))
    a.start()
    deadline = time.time() + 30
    while not host_comm(tag) and time.time() < deadline:
        time.sleep(0.05)
    assert host_comm(tag), 'request A did not get its fds in flight'
    others = [Background(stack, B_CODE % i) for i in range(4)]
    for b in others:
        b.start()
    results = [b.get() for b in others]
    assert host_comm(tag), 'request A ended before the others finished'
    status, doc, _ = a.get()
    out = details(doc).get('stdout') or ''
    assert status == 200, describe(status, doc)
    # The attack really took place: A had more in flight than the limit.
    assert 'in flight' in out and int(out.split()[2]) > 1024, out
    for i, (st, d, _) in enumerate(results):
        assert st == 200 and details(d).get('stdout') == 'run %d ok\n' % i \
            and details(d).get('stderr') == 'e\n', describe(st, d)
    assert stack.worker_log_text().count('ready\n') == zlog, \
        'a worker or zygote restarted:\n' + stack.worker_log_text()[-2000:]
    assert 'is gone' not in stack.worker_log_text()
    assert_healthy(stack, workers)
