"""return_files: symlinks pointing at host files."""
import base64

from escape_util import config, describe, details, run

CONFIG = config()

ATTACK = ('create symlinks in /work to /etc/passwd, /etc/hosts, '
          '/usr/lib/os-release, /proc/1/environ, /proc/self/environ, a '
          'relative ../../etc/passwd, /proc/1/root/etc/passwd, and a '
          'symlinked directory (etc -> /etc), then ask for them all in '
          'return_files (the worker reads them after the run, outside the '
          'jail, where /etc/passwd is the host\'s)')
EXPECTED = ('every one is answered with an error ("Symbolic links are not '
            'returned."), no content; a plain file in the same request is '
            'returned intact')

CODE = r'''
import os
LINKS = {'passwd': '/etc/passwd', 'hosts': '/etc/hosts',
         'osrel': '/usr/lib/os-release', 'initenv': '/proc/1/environ',
         'selfenv': '/proc/self/environ', 'rel': '../../etc/passwd',
         'viaroot': '/proc/1/root/etc/passwd', 'etc': '/etc'}
for name, target in LINKS.items():
    os.symlink(target, '/work/' + name)
open('/work/plain.txt', 'w').write('plain file')
print('ok')
'''

NAMES = ['passwd', 'hosts', 'osrel', 'initenv', 'selfenv', 'rel', 'viaroot',
         'etc/passwd', 'etc/shadow', 'plain.txt']


def test(stack):
    status, doc = run(stack, CODE, return_files=NAMES)
    d = details(doc)
    assert status == 200 and d.get('exit_code') == 0, describe(status, doc)
    files = d['output_files']
    plain = files.pop('plain.txt')
    assert base64.b64decode(plain['content_base64']) == b'plain file', plain
    with open('/etc/passwd', 'rb') as f:
        host_passwd = f.read()
    for name, v in files.items():
        assert 'content_base64' not in v, 'returned %s: %r' % (
            name, base64.b64decode(v['content_base64'])[:200])
        assert v.get('error') == 'Symbolic links are not returned.', (name, v)
    assert base64.b64encode(host_passwd[:30]).decode()[:36] not in repr(doc)
