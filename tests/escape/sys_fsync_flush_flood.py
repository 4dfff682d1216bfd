"""fsync and its kin on read-only host files: device cache flushes."""
import os

from escape_util import config, report

CONFIG = config()

ATTACK = ('2,000 fsync and fdatasync calls, plus msync and sync_file_range, '
          'on /usr/bin/python3 opened read-only (each real call makes the '
          'host disk flush its write cache: thousands of flushes a second '
          'slowed every fsync on the host)')
EXPECTED = ('every call returns 0 and the disk holding /usr sees (almost) '
            'no flush requests while the run lasts')

CODE = r'''
import mmap
fd = os.open('/usr/bin/python3', os.O_RDONLY)
for i in range(1000):
    os.fsync(fd)
    os.fdatasync(fd)
R['fsync'] = attempt(os.fsync, fd)
R['fdatasync'] = attempt(os.fdatasync, fd)
R['sync_file_range'] = sc(277, fd, 0, 0, 7)
m = mmap.mmap(fd, 4096, mmap.MAP_SHARED, mmap.PROT_READ)
R['msync'] = attempt(m.flush)
done()
'''


def _flushes(dev):
    """Flush requests completed by the disk (field 16 of its stat)."""
    d = '/sys/dev/block/%d:%d' % (os.major(dev), os.minor(dev))
    if os.path.exists(os.path.join(d, 'partition')):
        d = os.path.join(d, '..')
    try:
        with open(os.path.join(d, 'stat')) as f:
            fields = f.read().split()
    except OSError:
        return None
    return int(fields[15]) if len(fields) >= 17 else None


def test(stack):
    dev = os.stat('/usr/bin/python3').st_dev
    before = _flushes(dev)
    r = report(stack, CODE)
    after = _flushes(dev)
    # Other work on the host flushes too (journal commits); 2,000 calls
    # that reached the disk made at least 2,000 flushes.
    if before is not None and after is not None:
        assert after - before < 500, \
            '%d disk flushes during the run' % (after - before)
    assert r == {'fsync': 'ok:None', 'fdatasync': 'ok:None',
                 'sync_file_range': 'ret:0', 'msync': 'ok:None'}, r
