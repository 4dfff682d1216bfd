"""/usr/local and other host-local parts of /usr inside the jail."""
import os

from escape_util import config, report

CONFIG = config()

ATTACK = ('list /usr/local, /usr/etc and /usr/src, and read a canary file '
          'the host keeps under /usr/local (locally installed programs, '
          'their configuration and sources are host facts, not Python)')
EXPECTED = 'the three directories are empty or absent; the canary is unseen'

CANARY = '/usr/local/share/pyexec-escape-canary'

CODE = r'''
for d in ('/usr/local', '/usr/etc', '/usr/src'):
    R[d] = attempt(os.listdir, d)
R['canary'] = attempt(lambda: open(%r).read())
done()
''' % CANARY


def test(stack):
    os.makedirs(os.path.dirname(CANARY), exist_ok=True)
    with open(CANARY, 'w') as f:
        f.write('host-local\n')
    try:
        r = report(stack, CODE)
    finally:
        os.unlink(CANARY)
    for d in ('/usr/local', '/usr/etc', '/usr/src'):
        assert r[d] in ('ok:[]', 'errno:ENOENT'), (d, r[d])
    assert r['canary'] == 'errno:ENOENT', r
