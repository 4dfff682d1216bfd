"""Hard links from /work to files outside the workspace."""
from escape_util import PRELUDE, config, describe, details, report, run

CONFIG = config()

ATTACK = ('os.link() /usr/bin/python3, /etc/passwd, /etc/ld.so.cache and '
          '/dev/null into /work, by path and through /proc/self/fd with '
          'AT_SYMLINK_FOLLOW and AT_EMPTY_PATH; then ask for the names in '
          'return_files')
EXPECTED = ('every link fails with EXDEV (the workspace is its own tmpfs; '
            'AT_EMPTY_PATH needs a capability: ENOENT); the names are "not '
            'found"; a link within /work works')

CODE = r'''
for src in ('/usr/bin/python3', '/etc/passwd', '/etc/ld.so.cache',
            '/dev/null', '/proc/self/exe'):
    R['link ' + src] = attempt(os.link, src, '/work/' + os.path.basename(src))
fd = os.open('/usr/bin/python3', os.O_RDONLY)
R['linkat follow /proc/self/fd'] = sc(265, -100,
    ctypes.c_char_p(b'/proc/self/fd/%d' % fd), -100,
    ctypes.c_char_p(b'/work/py2'), 0x400)          # AT_SYMLINK_FOLLOW
R['linkat empty path'] = sc(265, fd, ctypes.c_char_p(b''), -100,
    ctypes.c_char_p(b'/work/py3'), 0x1000)         # AT_EMPTY_PATH
open('/work/inner', 'w').write('inner')
R['_inner link'] = attempt(os.link, '/work/inner', '/work/inner2')
# /tmp and /work are two bind mounts of one tmpfs: links between them
# fail too (link(2) wants one mount, not just one file system).
R['tmp to work'] = attempt(os.link, '/work/inner', '/tmp/inner3')
done()
'''


def test(stack):
    r = report(stack, CODE)
    assert r.pop('_inner link') == 'ok:None', 'links within /work broke'
    assert r.pop('linkat empty path') in ('errno:ENOENT', 'errno:EXDEV',
                                          'errno:EPERM'), r
    bad = {k: v for k, v in r.items() if v != 'errno:EXDEV'}
    assert not bad, bad
    status, doc = run(stack, PRELUDE + CODE.replace('done()', "print('x')"),
                      return_files=['python3', 'passwd', 'py2', 'py3'])
    d = details(doc)
    assert status == 200, describe(status, doc)
    for name, v in d['output_files'].items():
        assert v == {'error': 'File not found after execution.'}, (name, v)
