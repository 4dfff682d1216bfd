"""return_files: a file flipped between regular file and symlink."""
import base64

from escape_util import config, describe, details, run

CONFIG = config()

ATTACK = ('a background process flips /work/out between a regular file and '
          'a symlink to a host file (/etc/passwd, /proc/1/root/etc/hosts, '
          '../../etc/shadow) with atomic renames in a tight loop, and flips '
          '/work/d between a directory and a symlink to /etc, until it is '
          'killed; the script exits at once or after a while; six runs')
EXPECTED = ('the returned out is the regular file\'s content or an error, '
            'never anything else; d/passwd is never returned with content')

CODE = r'''
import os, time
SAFE = b'SAFE-CONTENT-' + b'x' * 64
with open('/work/reg', 'wb') as f:
    f.write(SAFE)
os.mkdir('/work/ddir')
with open('/work/ddir/passwd', 'wb') as f:
    f.write(SAFE)
r, w = os.pipe()
if os.fork() == 0:
    targets = ['/etc/passwd', '/proc/1/root/etc/hosts', '../../etc/shadow']
    n = 0
    os.write(w, b'+')
    while True:
        t = targets[n %% 3]
        n += 1
        try:
            os.link('/work/reg', '/work/tmp-reg')
            os.rename('/work/tmp-reg', '/work/out')
            os.symlink(t, '/work/tmp-lnk')
            os.rename('/work/tmp-lnk', '/work/out')
            os.rename('/work/ddir', '/work/d')
            os.rename('/work/d', '/work/ddir')
            os.symlink('/etc', '/work/tmp-d')
            os.rename('/work/tmp-d', '/work/d')
            os.unlink('/work/d')
        except OSError:
            pass
os.read(r, 1)
time.sleep(%f)
print('exiting')
'''


def test(stack):
    seen = {}
    for i in range(6):
        delay = (0, 0.05, 0.2)[i % 3]
        status, doc = run(stack, CODE % delay, return_files=['out',
                                                             'd/passwd'])
        d = details(doc)
        assert status == 200 and d.get('exit_code') == 0, \
            describe(status, doc)
        for name, v in d['output_files'].items():
            if 'content_base64' in v:
                data = base64.b64decode(v['content_base64'])
                assert data.startswith(b'SAFE-CONTENT-'), \
                    'returned %s: %r' % (name, data[:200])
                seen.setdefault(name, set()).add('content')
            else:
                seen.setdefault(name, set()).add(v.get('error'))
    # For the record in a failure message: what the runs saw.
    assert seen, seen
