"""return_files: a FIFO (reading it could block the worker forever)."""
import time

from escape_util import assert_healthy, config, describe, details, run, \
    worker_pids

CONFIG = config()

ATTACK = ('leave a FIFO with no writer, a FIFO whose writer end a daemon '
          'held (dead by the time the worker reads), and a bound Unix '
          'socket node in /work; ask for all three in return_files')
EXPECTED = ('the reply comes at once (no hang), each an error ("Not a '
            'regular file." or "File could not be opened."); the worker '
            'survives')

CODE = r'''
import os, socket, time
os.mkfifo('/work/fifo')
os.mkfifo('/work/fifo2')
if os.fork() == 0:
    fd = os.open('/work/fifo2', os.O_RDWR)
    time.sleep(60)
s = socket.socket(socket.AF_UNIX)
s.bind('/work/sock')
time.sleep(0.1)
print('ok')
'''


def test(stack):
    workers = worker_pids(stack)
    t0 = time.time()
    status, doc = run(stack, CODE, return_files=['fifo', 'fifo2', 'sock'],
                      timeout=30)
    took = time.time() - t0
    d = details(doc)
    assert status == 200 and d.get('exit_code') == 0, describe(status, doc)
    # A worker blocked on the FIFO would wait for the 10 s deadline.
    tl = int(stack.config.get('time_limit_seconds', 10))
    assert took < min(stack.slack(), tl - 1), 'took %.1fs' % took
    for name, v in d['output_files'].items():
        assert 'content_base64' not in v and v.get('error') in (
            'Not a regular file.', 'File could not be opened.'), (name, v)
    assert_healthy(stack, workers)
