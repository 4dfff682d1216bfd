"""A fork of a session attacks another family (issue 13). A family (a
session and its forks) shares one jail; families do not share anything."""
import json
import time

from escape_util import assert_healthy, config, worker_pids

CONFIG = config(time_limit_seconds=10, rate_limit_per_minute=1000,
                daily_quota=100000, max_sessions=6)

SESSION = ('the attack already runs from sessions (a fork against another '
           'family); the [session] re-run would repeat it unchanged')

ATTACK = ('family A: session A (a marker, a file, an abstract socket) and '
          'its fork A2; family B: session B and its fork B2. From B2: look '
          'for A\'s processes in /proc, for A\'s files and fork workspaces '
          'in /work and /tmp, connect to A\'s abstract socket, read '
          '/proc/1/root, then kill(-1, SIGKILL)')
EXPECTED = ('B2 sees only its own family\'s processes and files, A\'s socket '
            'does not exist for it; kill(-1) from B2 ends its relative B (and '
            'not B2 itself: kill(-1) spares the caller) and nothing of A; '
            'A and A2 keep their state; the workers are untouched')

PROBE = r'''
import os, socket
pids = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
found = []
for top in ("/work", "/tmp"):
    for root, dirs, files in os.walk(top):
        found += [os.path.join(root, f) for f in files if "secretA" in f]
forks = sorted(n for n in os.listdir("/tmp") if n.startswith(".pyexec-fork-"))
c = socket.socket(socket.AF_UNIX)
try:
    c.connect("\0famA")
    conn = "connected"
except OSError as e:
    conn = type(e).__name__
try:
    os.listdir("/proc/1/root")
    root = "listed"
except OSError as e:
    root = type(e).__name__
print(len(pids), found, len(forks), os.getcwd() == "/tmp/" + forks[0] if
      len(forks) == 1 else forks, conn, root)
'''


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


def _new(stack):
    st, doc = _call(stack, 'POST', '/sessions', {})
    assert st == 201, doc
    return doc['session_id']


def _fork(stack, sid):
    st, doc = _call(stack, 'POST', '/sessions/%s/fork' % sid, {})
    assert st == 201, doc
    return doc['session_id']


def test(stack):
    workers = worker_pids(stack)
    made = []
    try:
        a = _new(stack)
        made.append(a)
        _cell(stack, a, 'import socket\nkept = "A"\n'
              'open("secretA.txt", "w").write("a")\n'
              'ls = socket.socket(socket.AF_UNIX)\nls.bind("\\0famA")\n'
              'ls.listen(1)')
        a2 = _fork(stack, a)
        made.append(a2)
        b = _new(stack)
        made.append(b)
        _cell(stack, b, 'mine = "B"')
        b2 = _fork(stack, b)
        made.append(b2)
        d = _cell(stack, b2, PROBE)
        n, rest = d['stdout'].split(' ', 1)
        # init, B, B2 (and at most the probe's own helpers): A's 3+ never.
        assert int(n) <= 4, d
        assert rest.strip() == '[] 1 True FileNotFoundError PermissionError' \
            or rest.strip() == '[] 1 True ConnectionRefusedError ' \
            'PermissionError', d
        d = _cell(stack, b2, 'import os, signal\nos.kill(-1, signal.SIGKILL)')
        # kill(-1) spares the caller: B2 lives, its relative B does not.
        assert d['session_alive'] is True, d
        end = time.monotonic() + 20
        while time.monotonic() < end and \
                _call(stack, 'GET', '/sessions/' + b)[0] != 404:
            time.sleep(0.2)
        assert _call(stack, 'GET', '/sessions/' + b)[0] == 404
        assert _cell(stack, b2, 'mine')['result'] == "'B'"
        assert _cell(stack, a, 'kept')['result'] == "'A'"
        assert _cell(stack, a2, 'kept + open("secretA.txt").read()')[
            'result'] == "'Aa'"
    finally:
        for x in made:
            _call(stack, 'DELETE', '/sessions/' + x)
    assert_healthy(stack, workers)
