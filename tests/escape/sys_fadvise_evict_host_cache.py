"""posix_fadvise(DONTNEED) on host files: evicting the host's page cache."""
import subprocess

from escape_util import config, report

CONFIG = config()

# A host file nothing keeps mapped (mapped pages would not be evicted).
TARGET = '/usr/lib/python3.11/LICENSE.txt'

ATTACK = ('posix_fadvise(POSIX_FADV_DONTNEED) over the whole of %s, read '
          'into the host page cache just before (cross-tenant slowdown, and '
          'with mincore-style probing a page-cache side channel)' % TARGET)
EXPECTED = ('the call returns 0 and does nothing: the file is still '
            'resident on the host afterwards')

CODE = r'''
fd = os.open(%r, os.O_RDONLY)
R['fadvise'] = attempt(os.posix_fadvise, fd, 0, 0, os.POSIX_FADV_DONTNEED)
done()
''' % TARGET


def _resident(path):
    out = subprocess.run(['fincore', '-b', '-n', '-o', 'RES,SIZE', path],
                         check=True, capture_output=True, text=True).stdout
    res, size = out.split()
    return int(res), int(size)


def test(stack):
    with open(TARGET, 'rb') as f:
        f.read()
    res, size = _resident(TARGET)
    assert res >= size, 'could not make %s resident (%d of %d)' % (
        TARGET, res, size)
    r = report(stack, CODE)
    assert r == {'fadvise': 'ok:None'}, r
    res, size = _resident(TARGET)
    assert res >= size, ('the jail evicted a host file from the page cache: '
                         '%d of %d bytes resident' % (res, size))
