"""Time, output and process limits, with a small config to keep it fast."""
import time

from helpers import err, ok

CONFIG = {'time_limit_seconds': 2, 'max_output_bytes': 65536}


def test_timeout_keeps_partial_output(s):
    t = time.time()
    doc = err(s.execute({'code': 'import time\nprint("started")\nwhile True:\n    time.sleep(0.1)'}),
              400, 'TimeoutError')
    assert time.time() - t < 5, time.time() - t
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
    assert time.time() - t < 5
    assert doc['execution_details']['stdout'] == 'parent waiting\n'


def test_daemon_does_not_outlive_quick_exit(s):
    # The parent exits at once; a daemon holding stdout must not keep the
    # request open until the deadline, and must be gone afterwards.
    code = '''
import os, time
if os.fork() == 0:
    os.setsid()
    while True:
        time.sleep(1)
print("bye")
'''
    t = time.time()
    d = ok(s.execute({'code': code, 'api_key': s.admin_key}))
    assert time.time() - t < 1.5, time.time() - t
    assert d['stdout'] == 'bye\n'


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


def test_process_limit(s):
    code = '''
import os
n = 0
try:
    for i in range(50):
        if os.fork() == 0:
            import time; time.sleep(2); os._exit(0)
        n += 1
except OSError as e:
    print("blocked after", n, e.errno)
'''
    d = ok(s.execute({'code': code, 'api_key': s.admin_key}))
    # max_processes = 10 counts the script itself: 9 children.
    assert d['stdout'] == 'blocked after 9 11\n', d['stdout']


def test_memory_limit(s):
    d = ok(s.execute({'code': 'x = bytearray(600 * 1024 * 1024)\nprint("no")'}))
    assert d['success'] is False
    assert 'MemoryError' in d['stderr'], d['stderr']


def _require_memory_cgroup(s):
    if 'cgroup v1 memory cap per run' not in s.worker_log_text():
        raise AssertionError('no per-run memory cgroup on this host: ' +
                             s.worker_log_text()[-500:])


def test_memory_limit_per_run(s):
    # Each child stays under RLIMIT_AS (512 MiB), but together they pass the
    # run's 512 MiB cgroup cap: the kernel kills some, and the run says so.
    code = '''
import os, time
kids = []
for i in range(4):
    pid = os.fork()
    if pid == 0:
        b = bytearray(200 * 1024 * 1024)
        for j in range(0, len(b), 4096):
            b[j] = 1
        time.sleep(0.5)     # all four alive at once: 800 MiB > the cap
        os._exit(0)
    kids.append(pid)
print(sorted(os.waitstatus_to_exitcode(os.waitpid(p, 0)[1]) for p in kids))
'''
    _require_memory_cgroup(s)
    d = ok(s.execute({'code': code, 'api_key': s.admin_key}))
    assert d['oom_killed'] is True, d
    assert '-9' in d['stdout'], d['stdout']   # at least one child was killed
    assert d['termination'] == 'exited'


def test_memory_limit_kills_main(s):
    code = 'import os\nos.fork()\nb = bytearray(400 * 1024 * 1024)\nfor j in range(0, len(b), 4096): b[j] = 1\nimport time\ntime.sleep(1)'
    _require_memory_cgroup(s)
    d = ok(s.execute({'code': code, 'api_key': s.admin_key}))
    assert d['oom_killed'] is True, d
    # Whichever process the kernel picked, the run was cut short by memory.
    assert d['termination'] in ('memory_limit', 'exited'), d


def test_no_oom_flag_normally(s):
    d = ok(s.execute({'code': 'print(1)'}))
    assert d['oom_killed'] is False
