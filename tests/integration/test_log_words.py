"""Each request's log line says in words how its run ended (term=, the
reply's termination; "none" when no code ran), the caller's role, whether
the memory cgroup killed anything, and ends with the request id the client
got in X-Request-Id."""
import re
import time

from helpers import err, ok

# test_limits.py's settings, so both share one stack.
CONFIG = {'time_limit_seconds': 2, 'max_output_bytes': 65536}


def line_of(s, rid):
    deadline = time.time() + s.slack()
    while True:
        lines = [l for l in s.worker_log_text().splitlines()
                 if l.endswith(' rid=' + rid)]
        if lines or time.time() > deadline:
            break
        time.sleep(0.1)
    assert len(lines) == 1, (rid, lines, s.worker_log_text()[-2000:])
    return lines[0]


def check(s, resp, term, role='public'):
    _, doc, h = resp
    rid = h['x-request-id']
    line = line_of(s, rid)
    assert ' term=%s ' % term in line, line
    assert ' role=%s ' % role in line, line
    assert re.search(r' oom=(yes|no) ', line), line
    assert not re.search(r' term=\d', line), line
    return doc, line


def test_exited(s):
    r = s.execute({'code': 'print(1)'})
    ok(r)
    check(s, r, 'exited')


def test_exited_admin(s):
    r = s.execute({'code': 'raise SystemExit(3)', 'api_key': s.admin_key})
    assert ok(r)['exit_code'] == 3
    check(s, r, 'exited', role='admin')


def test_signaled(s):
    r = s.execute({'code': 'import os, signal\nos.kill(os.getpid(), signal.SIGKILL)',
                   'api_key': s.admin_key})
    assert ok(r)['termination'] == 'signaled'
    check(s, r, 'signaled', role='admin')


def test_timeout(s):
    r = s.execute({'code': 'import time\ntime.sleep(100)'})
    err(r, 400, 'TimeoutError')
    check(s, r, 'timeout')


def test_output_limit(s):
    r = s.execute({'code': 'import sys\nwhile True: sys.stdout.write("x" * 4096)'})
    assert ok(r)['termination'] == 'output_limit'
    check(s, r, 'output_limit')


def test_nothing_ran(s):
    r = s.execute({'code': 'x = ('})
    err(r, 400, 'SyntaxError')
    _, line = check(s, r, 'none')
    assert ' 400 SyntaxError ' in line, line
    r = s.execute({'cod': 1})
    check(s, r, 'none')
