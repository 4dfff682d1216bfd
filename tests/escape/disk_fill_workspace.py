"""Fill /work and /tmp: bytes, then inodes."""
import os
import threading
import time

from escape_util import assert_healthy, config, report, worker_pids

CONFIG = config()

ATTACK = ('write 1 MiB chunks to /work, then to /tmp, past RLIMIT_FSIZE and '
          'the workspace size (trying for 4x workspace_limit_mb); then '
          'create empty files, directories and symlinks in /tmp until the '
          'inodes run out; also fallocate a huge file')
EXPECTED = ('writes stop with EFBIG/ENOSPC at about workspace_limit_mb in '
            'total (/work and /tmp share one cap); inodes stop at the '
            'tmpfs inode cap; the host\'s disk free space does not move by '
            'more than a few MiB; the run exits cleanly and the next run '
            'starts with an empty workspace')

CODE = r'''
WS = %d << 20
chunk = b'\x5a' * (1 << 20)
total = 0
R['errors'] = []
for path in ('/work/fill-a', '/work/fill-b', '/tmp/fill-c', '/tmp/fill-d'):
    with open(path, 'wb', buffering=0) as f:
        while total < 4 * WS:
            try:
                f.write(chunk)
            except OSError as e:
                R['errors'].append(_ename(e.errno))
                break
            total += len(chunk)
R['bytes MiB'] = total >> 20
st = os.statvfs('/work')
R['ws size MiB'] = (st.f_blocks * st.f_frsize) >> 20
R['inodes total'] = st.f_files
R['fallocate'] = attempt(lambda: os.posix_fallocate(
    os.open('/work/huge', os.O_CREAT | os.O_WRONLY), 0, 1 << 40))
for p in ('/work/fill-a', '/work/fill-b', '/tmp/fill-c', '/tmp/fill-d',
          '/work/huge'):
    try:
        os.unlink(p)
    except OSError:
        pass
os.mkdir('/tmp/i')
n = 0
err = None
while n < 1000000:
    try:
        kind = n %% 3
        p = '/tmp/i/%%d' %% n
        if kind == 0:
            os.close(os.open(p, os.O_CREAT | os.O_WRONLY))
        elif kind == 1:
            os.mkdir(p)
        else:
            os.symlink('x' * 200, p)
    except OSError as e:
        err = _ename(e.errno)
        break
    n += 1
R['inodes made'] = n
R['inode error'] = err
done()
'''


def test(stack):
    ws = int(stack.config.get('workspace_limit_mb', 64))
    workers = worker_pids(stack)
    paths = ('/', '/run', '/tmp', '/var/tmp')
    before = {p: os.statvfs(p) for p in paths}
    lowest = {p: before[p].f_bavail * before[p].f_frsize for p in paths}
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            for p in paths:
                s = os.statvfs(p)
                lowest[p] = min(lowest[p], s.f_bavail * s.f_frsize)
            time.sleep(0.01)

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    try:
        r = report(stack, CODE % ws, timeout=60)
    finally:
        stop.set()
        t.join()
    assert r['bytes MiB'] <= ws, 'wrote %d MiB with a %d MiB workspace: %s' \
        % (r['bytes MiB'], ws, r)
    assert r['ws size MiB'] == ws, r
    assert r['errors'] and set(r['errors']) <= {'EFBIG', 'ENOSPC'}, r
    assert r['fallocate'] in ('errno:ENOSPC', 'errno:EFBIG'), r
    assert r['inode error'] == 'ENOSPC' and \
        r['inodes made'] <= r['inodes total'], r
    for p in paths:
        drop = (before[p].f_bavail * before[p].f_frsize - lowest[p]) >> 20
        assert drop < 16, 'host free space on %s dropped by %d MiB' % (p, drop)
    nxt = report(stack, "R['work'] = os.listdir('/work'); "
                 "R['tmp'] = os.listdir('/tmp'); "
                 "s = os.statvfs('/work'); R['free'] = s.f_bfree * s.f_frsize"
                 " >> 20; done()")
    assert nxt['work'] == ['script.py'] and nxt['tmp'] == [], nxt
    assert nxt['free'] >= ws - 1, nxt
    assert_healthy(stack, workers)
