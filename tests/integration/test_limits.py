"""Time and output limits, with a 2 s deadline to keep them fast.

Tests whose runs do real work (forks, page faults) live in
test_limits_resources.py, with a far deadline: on a slow machine that work
takes seconds, and a timeout must not pass for the limit under test."""
import time

from helpers import err, ok

CONFIG = {'time_limit_seconds': 2, 'max_output_bytes': 65536}


def test_timeout_keeps_partial_output(s):
    t = time.time()
    doc = err(s.execute({'code': 'import time\nprint("started")\nwhile True:\n    time.sleep(0.1)'}),
              400, 'TimeoutError')
    assert time.time() - t < 2 + s.slack(), time.time() - t
    assert doc['error_details']['message'] == 'Execution timed out (2 seconds limit).'
    d = doc['execution_details']
    assert d['stdout'] == 'started\n' and d['termination'] == 'timeout'


def test_timeout_busy_loop(s):
    doc = err(s.execute({'code': 'while True: pass'}), 400, 'TimeoutError')
    assert doc['execution_details']['termination'] in ('timeout', 'cpu_limit')


def test_timeout_kills_signal_ignoring_daemons(s):
    code = '''
import os, signal, time
for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
    signal.signal(sig, signal.SIG_IGN)
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        while True:
            time.sleep(1)
    os._exit(0)
print("parent waiting", flush=True)
while True:
    time.sleep(1)
'''
    t = time.time()
    doc = err(s.execute({'code': code, 'api_key': s.admin_key}), 400, 'TimeoutError')
    assert time.time() - t < 2 + s.slack(), time.time() - t
    assert doc['execution_details']['stdout'] == 'parent waiting\n'


def test_output_flood_stopped(s):
    d = ok(s.execute({'code': 'while True:\n    print("x" * 1000)'}))
    assert d['termination'] == 'output_limit', d['termination']
    assert d['stdout_truncated'] is True
    assert len(d['stdout'].encode()) <= 65536
    assert d['stdout'].startswith('x' * 1000 + '\n')


def test_output_flood_truncates_on_char_boundary(s):
    d = ok(s.execute({'code': 'import sys\nsys.stdout.write("é" * 40000)'}))
    assert d['stdout_truncated'] is True
    assert set(d['stdout']) == {'é'}, 'no replacement character at the cut'
    assert 'stdout_base64' not in d


def test_memory_limit(s):
    d = ok(s.execute({'code': 'x = bytearray(600 * 1024 * 1024)\nprint("no")'}))
    assert d['success'] is False
    assert 'MemoryError' in d['stderr'], d['stderr']
