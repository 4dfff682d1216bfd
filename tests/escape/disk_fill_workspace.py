"""Fill /work and /tmp: bytes, then inodes."""
import json
import os
import time

from escape_util import assert_healthy, Background, config, describe, \
    details, PRELUDE, report, worker_pids
from escape_util import work_files

CONFIG = config()

ATTACK = ('write 1 MiB chunks to /work, then to /tmp, past RLIMIT_FSIZE and '
          'the workspace size (trying for 4x workspace_limit_mb); then '
          'create empty files, directories and symlinks in /tmp until the '
          'inodes run out; also fallocate a huge file')
EXPECTED = ('writes stop with EFBIG/ENOSPC at about workspace_limit_mb in '
            'total (/work and /tmp share one cap); inodes stop at the '
            'tmpfs inode cap; the bytes sit in memory (host Shmem rises by '
            'about that much while the run holds them) and the stack\'s '
            'directory (the jail mount points) does not grow on disk; the '
            'run exits '
            'cleanly and the next run starts with an empty workspace')

CODE = r'''
import time
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
time.sleep(1.0)               # hold it all while the host looks
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


def shmem_kib():
    with open('/proc/meminfo') as f:
        for line in f:
            if line.startswith('Shmem:'):
                return int(line.split()[1])
    return 0


def disk_usage(top):
    total = 0
    for root, dirs, files in os.walk(top):
        for n in dirs + files:
            try:
                total += os.lstat(os.path.join(root, n)).st_blocks * 512
            except OSError:
                pass
    return total


def test(stack):
    ws = int(stack.config.get('workspace_limit_mb', 64))
    workers = worker_pids(stack)
    # Where the jail's mount point and everything of the stack live.
    dirs = (stack.base,)
    used_before = {d: disk_usage(d) for d in dirs}
    shmem_before = shmem_kib()
    peak = {'shmem': shmem_before, 'used': dict(used_before)}
    bg = Background(stack, PRELUDE + CODE % ws, timeout=60)
    bg.start()
    while bg.is_alive():
        peak['shmem'] = max(peak['shmem'], shmem_kib())
        if stack.base:
            u = disk_usage(stack.base)
            peak['used'][stack.base] = max(peak['used'][stack.base], u)
        time.sleep(0.02)
    status, doc, _ = bg.get()
    d = details(doc)
    assert status == 200 and d.get('exit_code') == 0, describe(status, doc)
    r = json.loads(d['stdout'].strip().splitlines()[-1])
    assert r['bytes MiB'] <= ws, 'wrote %d MiB with a %d MiB workspace: %s' \
        % (r['bytes MiB'], ws, r)
    assert r['ws size MiB'] == ws, r
    assert r['errors'] and set(r['errors']) <= {'EFBIG', 'ENOSPC'}, r
    assert r['fallocate'] in ('errno:ENOSPC', 'errno:EFBIG'), r
    assert r['inode error'] == 'ENOSPC' and \
        r['inodes made'] <= r['inodes total'], r
    # The bytes were in memory (a tmpfs shows up as Shmem on the host)...
    rise = (peak['shmem'] - shmem_before) >> 10
    assert rise >= r['bytes MiB'] * 3 // 4, \
        'host Shmem rose by %d MiB only, for %d MiB written' % (
            rise, r['bytes MiB'])
    # ...and not on disk where the jail lives. (The file system's free
    # space itself is no measure here: other jobs on a shared host move it
    # by hundreds of MiB a second.)
    for dname in dirs:
        after = max(peak['used'].get(dname, 0), disk_usage(dname))
        grew = (after - used_before[dname]) >> 20
        assert grew < 4, '%s grew by %d MiB on disk' % (dname, grew)
    nxt = report(stack, "R['work'] = os.listdir('/work'); "
                 "R['tmp'] = os.listdir('/tmp'); "
                 "s = os.statvfs('/work'); R['free'] = s.f_bfree * s.f_frsize"
                 " >> 20; done()")
    # exec mode: /tmp/.matplotlib is the run's own read-only font list
    assert nxt['work'] == work_files() and \
        [n for n in nxt['tmp'] if n != '.matplotlib'] == [], nxt
    assert nxt['free'] >= ws - 1, nxt
    assert_healthy(stack, workers)
