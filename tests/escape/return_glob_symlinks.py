"""return_files globs and directories through planted symlinks."""
from escape_util import assert_healthy, config, describe, details, run, \
    worker_pids

CONFIG = config()

ATTACK = ('plant symlinks to /, /etc, /etc/passwd and the workspace itself '
          '(a loop), then ask for "*", "*/*", "*/*/*", "root/", "loop/", '
          '"*/passwd" and "." spelled as a directory of every kind')
EXPECTED = ('only the regular files in the workspace come back; every '
            'symlink is skipped or refused, never followed; the worker '
            'survives')

CODE = r'''
import os
os.symlink('/', 'root')
os.symlink('/etc', 'etc')
os.symlink('/etc/passwd', 'passwd')
os.symlink('/work', 'loop')
os.mkdir('d')
os.symlink('/etc', 'd/etc')
os.symlink('/work/d', 'd/self')
open('d/mine', 'w').write('mine')
print('ok')
'''


def test(stack):
    workers = worker_pids(stack)
    status, doc = run(stack, CODE, return_files=[
        '*', '*/*', '*/*/*', 'root/', 'loop/', 'd/', '*/passwd', 'e*/*'])
    d = details(doc)
    assert status == 200 and d.get('exit_code') == 0, describe(status, doc)
    returned = {k for k, v in d['output_files'].items() if 'content_base64' in v}
    # script.py is the workspace's own file, the code as sent
    assert returned == {'d/mine', 'script.py'}, d['output_files']
    for k in ('root/', 'loop/'):
        assert d['output_files'][k] == {
            'error': 'Symbolic links are not returned.'}, d['output_files']
    assert_healthy(stack, workers)
