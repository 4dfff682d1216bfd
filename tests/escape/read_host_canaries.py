"""Read world-readable and root-only canary files planted on the host."""
import os
import secrets

from escape_util import config, report

CONFIG = config()

ATTACK = ('plant a world-readable (0644) and a root-only (0600) canary in '
          '/tmp, /var/tmp and /etc on the host, then read them from a run '
          'by path, through ../ walks from /work, through /proc/1/root, '
          '/proc/self/root, /proc/*/cwd and /proc/*/root of every visible '
          'process, and by listing those directories')
EXPECTED = ('every open fails with ENOENT (or EACCES on init\'s /proc '
            'links); no listing shows a canary; the canary text never '
            'appears in the output')

CODE = r'''
NAMES, SECRET = %r, %r
prefixes = ['', '/work/../..', '/work/../../../../..', '/tmp/../',
            '/proc/1/root', '/proc/self/root', '/proc/thread-self/root',
            '/proc/self/cwd/../..']
for p in os.listdir('/proc'):
    if p.isdigit():
        prefixes += ['/proc/%%s/root' %% p, '/proc/%%s/cwd/..' %% p,
                     '/proc/%%s/cwd/../..' %% p]
def read(path):
    with open(path, 'rb') as f:
        return f.read(200)
for pre in prefixes:
    for n in NAMES:
        R[pre + n] = attempt(read, pre + n)
for d in ('/tmp', '/var/tmp', '/etc', '/var', '/proc/1/root/etc',
          '/proc/self/root/tmp'):
    R['listdir ' + d] = attempt(os.listdir, d)
done()
'''

DIRS = ('/tmp', '/var/tmp', '/etc')


def test(stack):
    tag = secrets.token_hex(8)
    secret = 'PYEXEC-CANARY-' + secrets.token_hex(16)
    paths = []
    try:
        for d in DIRS:
            for mode in (0o644, 0o600):
                p = os.path.join(d, 'pyexec-canary-%s-%o' % (tag, mode))
                fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
                os.write(fd, (secret + '\n').encode())
                os.close(fd)
                os.chmod(p, mode)
                paths.append(p)
        r = report(stack, CODE % (paths, secret))
        raw = repr(list(r.values()))   # the keys are the paths tried
        assert secret not in raw, 'a canary was read: %s' % [
            k for k, v in r.items() if secret in v]
        assert tag not in raw, 'a canary name is visible: %s' % [
            k for k, v in r.items() if tag in v]
        bad = {k: v for k, v in r.items() if not k.startswith('listdir')
               and v not in ('errno:ENOENT', 'errno:EACCES')}
        assert not bad, bad
        # The jail's /tmp is its own: the host's /var does not exist.
        assert r['listdir /var'] == 'errno:ENOENT', r['listdir /var']
    finally:
        for p in paths:
            try:
                os.unlink(p)
            except OSError:
                pass
