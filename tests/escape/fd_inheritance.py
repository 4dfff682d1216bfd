"""Inherited file descriptors: what the script finds open at start."""
from escape_util import config, report

CONFIG = config()

# Not re-run inside a session (tests/run.py): a session's interpreter holds its own channel to its keeper (fd 3) by design.
SESSION = ("a session's interpreter holds its own channel to its keeper (fd 3) by design; what a session can do with it is tests/integration/test_sessions_hostile.py")

ATTACK = ('probe every fd number 0..1023 with fstat (before opening '
          'anything), readlink /proc/self/fd/*, and fstat fd 3 (the '
          'bootstrap\'s verdict pipe) and the worker\'s numbers (200-204) '
          'from the script and from a forked child')
EXPECTED = ('only 0, 1, 2 are open (pipes to the worker); fd 3 is closed '
            'before user code runs; nothing of the worker (FastCGI socket, '
            'client connection, logs, control socket) is reachable')

CODE = r'''
import os, stat, json
def open_fds():
    out = []
    for fd in range(1024):
        try:
            os.fstat(fd)
        except OSError:
            continue
        out.append(fd)
    return out
R = {'fds': open_fds()}
R['kinds'] = {fd: stat.S_IFMT(os.fstat(fd).st_mode) for fd in R['fds']}
R['links'] = {}
for n in os.listdir('/proc/self/fd'):
    try:
        R['links'][n] = os.readlink('/proc/self/fd/' + n)
    except OSError:
        pass      # the fd listdir used, closed by now
r, w = os.pipe()
if os.fork() == 0:
    os.close(r)
    mine = [f for f in open_fds() if f not in (r, w)]
    os.write(w, json.dumps(mine).encode())
    os._exit(0)
os.close(w)
R['child fds'] = json.loads(os.read(r, 4096))
print(json.dumps(R))
'''


def test(stack):
    r = report(stack, CODE, prelude=False)
    assert r['fds'] == [0, 1, 2], 'open fds at start: %s (%s)' % (
        r['fds'], r['links'])
    assert all(k == 0o010000 for k in r['kinds'].values()), \
        'fds 0-2 are not all pipes: %s' % r['kinds']
    # listdir itself holds one fd while it reads: at most 0, 1, 2 and that.
    extra = set(r['links']) - {'0', '1', '2'}
    assert len(extra) <= 1, r['links']
    for fd in extra:
        assert r['links'][fd].startswith('/proc/'), r['links']
    assert r['child fds'] == [0, 1, 2], r['child fds']
