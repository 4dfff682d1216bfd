"""return_files: symlinks to the workspace directory itself, and loops."""
import base64

from escape_util import config, describe, details, run

CONFIG = config()

# Not re-run inside a session (tests/run.py): it returns the run's script.py, which a session cell does not have.
SESSION = ("it returns the run's script.py, which a session cell does not have; return_files of a session: tests/integration/test_sessions_files.py")

ATTACK = ('symlinks in /work pointing at /work, at ".", at themselves (a '
          'loop) and a chain of two; return names that go through them '
          '(self/script.py, dot/script.py, loop, chain) and a directory '
          'symlink to /tmp with a file behind it')
EXPECTED = ('every name that crosses a symlink gets an error, never content; '
            'script.py by its plain name is returned')

CODE = r'''
import os
os.symlink('/work', '/work/self')
os.symlink('.', '/work/dot')
os.symlink('loop', '/work/loop')
os.symlink('chain2', '/work/chain')
os.symlink('script.py', '/work/chain2')
os.symlink('/tmp', '/work/tmplink')
open('/tmp/secret.txt', 'w').write('behind a link')
print('ok')
'''

NAMES = ['self/script.py', 'dot/script.py', 'loop', 'chain', 'chain2',
         'self', 'dot', 'tmplink/secret.txt', 'script.py']


def test(stack):
    status, doc = run(stack, CODE, return_files=NAMES)
    d = details(doc)
    assert status == 200 and d.get('exit_code') == 0, describe(status, doc)
    files = d['output_files']
    script = files.pop('script.py')
    assert base64.b64decode(script['content_base64']).decode() == CODE
    for name, v in files.items():
        assert 'content_base64' not in v, (name, v)
        assert v.get('error') in ('Symbolic links are not returned.',
                                  'Path leaves the workspace.'), (name, v)
