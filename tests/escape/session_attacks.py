"""Attacks from inside a session (issue 11), beside one-shot runs."""
import json
import time

from escape_util import assert_healthy, config, worker_pids

CONFIG = config(time_limit_seconds=5, rate_limit_per_minute=1000,
                daily_quota=100000)

ATTACK = ('in session A: ptrace pid 1 and look for the keeper and the host '
          'runtime_dir, kill(-1, SIGKILL), then SIGKILL itself; in session C a fork bomb '
          'until the time limit; meanwhile session B keeps state')
EXPECTED = ('ptrace is refused, nothing outside the jail is visible; kill(-1) '
            'kills only the processes of A, its own SIGKILL ends session A only '
            '(its answer says so); the '
            'fork bomb is capped at max_processes and answered by the time '
            'limit plus the grace, its session interrupted or ended with the '
            'reason; B and the workers are untouched')


def _call(stack, method, path, payload=None):
    h = {'Content-Type': 'application/json'} if payload is not None else {}
    if payload is not None:
        payload = dict(payload, api_key=stack.admin_key)
    st, _, data = stack.request(method, path, json.dumps(payload).encode()
                                if payload is not None else None, h,
                                timeout=120)
    try:
        return st, json.loads(data)
    except ValueError:
        return st, data


def _cell(stack, sid, code):
    st, doc = _call(stack, 'POST', '/sessions/%s/execute' % sid,
                    {'code': code})
    assert st == 200, (st, doc)
    return doc['execution_details']


def test(stack):
    workers = worker_pids(stack)
    st, a = _call(stack, 'POST', '/sessions', {})
    assert st == 201, a
    st, b = _call(stack, 'POST', '/sessions', {})
    assert st == 201, b
    a, b = a['session_id'], b['session_id']
    _cell(stack, b, 'kept = "B"')
    rd = stack.config['runtime_dir']
    d = _cell(stack, a, 'import ctypes, os\n'
              'libc = ctypes.CDLL(None, use_errno=True)\n'
              'r = libc.ptrace(16, 1, 0, 0)\n'
              'print(r, ctypes.get_errno() != 0)\n'
              'print(os.getppid(), os.path.exists(%r))\n'
              'print(sorted(p for p in os.listdir("/proc") if p.isdigit()))'
              % rd)
    lines = d['stdout'].splitlines()
    assert lines[0] == '-1 True', d
    assert lines[1] == '0 False' or lines[1].endswith(' False'), d
    assert lines[2] in ("['1', '2']", "['1', '2', '3']"), d
    d = _cell(stack, a, 'import os, signal, subprocess\n'
              'p = subprocess.Popen(["sleep", "60"])\n'
              'os.kill(-1, signal.SIGKILL)\n'
              'p.wait()\n'
              'print(p.returncode)')
    assert d['stdout'] == '-9\n' and d['session_alive'] is True, d
    d = _cell(stack, a, 'import os, signal\nos.kill(os.getpid(), signal.SIGKILL)')
    assert d['session_alive'] is False and d['termination'] == 'signaled' \
        and d['signal'] == 9, d
    st, _ = _call(stack, 'GET', '/sessions/' + a)
    assert st == 404
    assert _cell(stack, b, 'kept')['result'] == "'B'"
    st, c = _call(stack, 'POST', '/sessions', {})
    assert st == 201, c
    c = c['session_id']
    t0 = time.time()
    d = _cell(stack, c, 'import os\nwhile True:\n    try:\n        os.fork()\n'
              '    except OSError:\n        pass')
    took = time.time() - t0
    # Interrupted at the limit; the bomb's own children were forked after
    # the SIGINT, so the cell rarely stops: then the session ends, and says so.
    assert d['termination'] == 'timeout', d
    assert took < 5 + 3 + stack.slack(), took
    if d['session_alive']:
        left = _cell(stack, c, 'import os\nprint(len([p for p in '
                     'os.listdir("/proc") if p.isdigit()]))')
        nproc = int(stack.config.get('max_processes', 10))
        assert int(left['stdout']) <= nproc + 2, left
        _call(stack, 'DELETE', '/sessions/' + c)
    else:
        assert 'did not stop' in d['session_message'], d
    assert _cell(stack, b, 'kept')['result'] == "'B'"
    _call(stack, 'DELETE', '/sessions/' + b)
    assert_healthy(stack, workers)
