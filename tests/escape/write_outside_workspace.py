"""Write outside the workspace: /, /usr, /etc, /dev, /proc."""
import hashlib
import os
import secrets

from escape_util import config, report

CONFIG = config()

ATTACK = ('create, overwrite, append, truncate, rename, unlink, chmod, '
          'utime, mkdir and symlink in /, /usr, /etc and /dev, through '
          'plain paths, ../ walks from /work, /proc/1/root and reopening a '
          'read-only fd through /proc/self/fd')
EXPECTED = ('every attempt fails (EROFS, EACCES, EPERM or ENOENT); nothing '
            'on the host changes: no new file, /etc/hosts and python3 keep '
            'their content, mode and mtime')

CODE = r'''
TAG = %r
def create(p):
    with open(p, 'x') as f:
        f.write('ESCAPED')
def overwrite(p):
    with open(p, 'r+b') as f:
        f.write(b'ESCAPED')
def append(p):
    with open(p, 'ab') as f:
        f.write(b'ESCAPED')
for d in ('/', '/usr/', '/usr/bin/', '/etc/', '/dev/', '/work/../',
          '/proc/1/root/', '/proc/self/root/usr/', '/proc/', '/bin/'):
    R['create ' + d] = attempt(create, d + TAG)
    R['mkdir ' + d] = attempt(os.mkdir, d + TAG + '.d')
    R['symlink ' + d] = attempt(os.symlink, '/work', d + TAG + '.l')
for p in ('/etc/passwd', '/etc/hosts', '/usr/bin/python3',
          '/etc/ld.so.cache', '/etc/python3.11/sitecustomize.py'):
    R['overwrite ' + p] = attempt(overwrite, p)
    R['append ' + p] = attempt(append, p)
    R['truncate ' + p] = attempt(os.truncate, p, 0)
    R['chmod ' + p] = attempt(os.chmod, p, 0o777)
    R['utime ' + p] = attempt(os.utime, p, (0, 0))
    R['unlink ' + p] = attempt(os.unlink, p)
    R['rename ' + p] = attempt(os.rename, p, p + '.moved')
    R['rename into work ' + p] = attempt(os.rename, p, '/work/stolen')
fd = os.open('/usr/bin/python3', os.O_RDONLY)
R['reopen rw via /proc/self/fd'] = attempt(os.open, '/proc/self/fd/%%d' %% fd,
                                           os.O_WRONLY)
R['rmdir /usr/lib'] = attempt(os.rmdir, '/usr/lib')
R['write /dev/full'] = attempt(overwrite, '/dev/full')
R['create /dev/sda'] = attempt(create, '/dev/sda')
done()
'''

OK_ERRS = ('errno:EROFS', 'errno:EACCES', 'errno:EPERM', 'errno:ENOENT',
           'errno:EBUSY', 'errno:EXDEV', 'errno:ENOSPC')


def fingerprint(p):
    st = os.stat(p)
    with open(p, 'rb') as f:
        h = hashlib.sha256(f.read()).hexdigest()
    return (st.st_mode, st.st_mtime_ns, st.st_size, h)


def test(stack):
    tag = 'pyexec-escape-write-' + secrets.token_hex(6)
    watched = ['/etc/hosts', '/etc/passwd',
               os.path.realpath('/usr/bin/python3')]
    before = {p: fingerprint(p) for p in watched}
    r = report(stack, CODE % tag)
    bad = {k: v for k, v in r.items() if v not in OK_ERRS}
    assert not bad, 'writes outside the workspace that did not fail: %s' % bad
    for d in ('/', '/usr', '/usr/bin', '/etc', '/dev', '/bin'):
        for suffix in ('', '.d', '.l'):
            p = os.path.join(d, tag + suffix)
            assert not os.path.lexists(p), 'the run created %s on the host' % p
    after = {p: fingerprint(p) for p in watched}
    assert before == after, 'host files changed: %s' % [
        p for p in watched if before[p] != after[p]]
