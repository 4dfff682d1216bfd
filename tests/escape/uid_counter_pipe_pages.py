"""Shrink every other run's pipes through the per-user pipe page count."""
import secrets
import time

from escape_util import assert_healthy, Background, config, describe, \
    details, host_comm, worker_pids

CONFIG = config()

ATTACK = ('request A grows pipes to 1 MiB each (F_SETPIPE_SZ) until the '
          'kernel refuses: its host uid is then past fs.pipe-user-pages-'
          'soft, and every new pipe of that uid gets 8 KiB and cannot be '
          'grown. While A holds them, request B checks its own stdout pipe '
          '(made by the worker), a new pipe and growing one, and prints '
          '300,000 bytes')
EXPECTED = ('A is refused after about 64 MiB; B\'s pipes have the default '
            '64 KiB, growing one works, and all of its output is captured')

A_CODE = r'''
import ctypes, fcntl, os, time
TAG = %r
pipes, refused = [], None
# 1 MiB pipes until refused, then smaller ones to fill the rest exactly.
for size in (1 << 20, 1 << 18, 1 << 16, 1 << 14, 1 << 13):
    while len(pipes) < 110:
        r, w = os.pipe()
        pipes.append((r, w))
        try:
            fcntl.fcntl(w, 1031, size)      # F_SETPIPE_SZ
        except OSError as e:
            refused = e.errno
            break
r, w = os.pipe()
print('grown', len(pipes), 'refused', refused, 'new', fcntl.fcntl(w, 1032),
      flush=True)
ctypes.CDLL(None).prctl(15, TAG.encode(), 0, 0, 0)     # PR_SET_NAME: ready
time.sleep(%f)
'''

B_CODE = r'''
import fcntl, os, sys
r, w = os.pipe()
new = fcntl.fcntl(r, 1032)
r, w = os.pipe()
grow = 'ok'
try:
    fcntl.fcntl(w, 1031, 1 << 20)
except OSError as e:
    grow = 'errno %d' % e.errno
print('stdout pipe', fcntl.fcntl(1, 1032), 'new pipe', new, 'grow', grow,
      file=sys.stderr)
sys.stdout.write('x' * 300000)
'''


def test(stack):
    tag = 'pp' + secrets.token_hex(6)
    workers = worker_pids(stack)
    a = Background(stack, A_CODE % (tag, 6.0))
    a.start()
    deadline = time.time() + 30
    while not host_comm(tag) and time.time() < deadline:
        time.sleep(0.05)
    assert host_comm(tag), 'request A did not take the pipe pages'
    b = Background(stack, B_CODE)
    b.start()
    st, d, _ = b.get()
    assert host_comm(tag), 'request A ended before B finished'
    status, doc, _ = a.get()
    out = details(doc).get('stdout') or ''
    assert status == 200 and 'refused 1 ' in out, describe(status, doc)
    assert 'new 8192' in out, 'A\'s own new pipes were not shrunk: ' + out
    e = details(d).get('stderr')
    assert st == 200 and e == \
        'stdout pipe 65536 new pipe 65536 grow ok\n', describe(st, d)
    assert details(d).get('stdout') == 'x' * 300000, describe(st, d)
    assert_healthy(stack, workers)
