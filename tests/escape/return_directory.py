"""return_files: a directory (and a directory full of files)."""
from escape_util import assert_healthy, config, describe, details, run, \
    worker_pids

CONFIG = config()

ATTACK = ('ask for a directory in return_files: an empty one, one with '
          '1000 files, and a nested one')
EXPECTED = ('each is answered "Not a regular file." with no content; the '
            'worker survives')

CODE = r'''
import os
os.mkdir('/work/empty')
os.makedirs('/work/full/nested')
for i in range(1000):
    open('/work/full/%d' % i, 'w').write('x')
print('ok')
'''


def test(stack):
    workers = worker_pids(stack)
    status, doc = run(stack, CODE, return_files=['empty', 'full',
                                                 'full/nested'])
    d = details(doc)
    assert status == 200 and d.get('exit_code') == 0, describe(status, doc)
    for name, v in d['output_files'].items():
        assert v == {'error': 'Not a regular file.'}, (name, v)
    assert_healthy(stack, workers)
