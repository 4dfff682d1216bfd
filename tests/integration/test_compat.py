"""The replaced services' routes (/compat/...), driven the way their own
clients drive them: an async httpx client written from each service's
documented behaviour (README examples unchanged but for the base URL),
each documented error code, and the Jupyter-kernel service's concurrent
benchmark (25 users x 100 stateful requests, every answer verified)."""
import asyncio
import base64
import json
import math
import random
import time
import uuid

import httpx

MODES = ('zygote', 'exec')
CONFIG = {'max_sessions': 40, 'max_sessions_per_ip': 40,
          'time_limit_seconds': 8}
REPL = '/compat/repl'
CI = '/compat/code-interpreter'
EXEC = '/compat/exec'


def base(s):
    return 'https://%s:%d' % (s.host, s.port)


def arun(coro):
    return asyncio.run(coro)


def aclient(s, **kw):
    return httpx.AsyncClient(base_url=base(s), verify=s.cert, timeout=120,
                             **kw)


# ---- the session REPL service ------------------------------------------

async def _repl_readme(s):
    sid = str(uuid.uuid4())
    async with aclient(s) as c:
        r = await c.get(REPL + '/')
        assert r.status_code == 200 and r.json() == 'ping', r.text
        # 1. Create a session (touch a file to create the workspace).
        r = await c.post(REPL + '/write_file', json={
            'id': sid, 'rel_path': 'example.py',
            'content': "print('Hello, World!')"})
        assert r.status_code == 200, r.text
        assert r.json() == {'success': True, 'id': sid,
                            'rel_path': 'example.py'}
        # 2. Run a command (python is the jail's Python).
        r = await c.post(REPL + '/run', json={'id': sid,
                                              'cmd': 'python example.py'})
        assert r.status_code == 200, r.text
        assert r.json() == {'stdout': 'Hello, World!\n', 'stderr': '',
                            'id': sid}, r.json()
        # 3. Read a file.
        r = await c.get(REPL + '/read_file',
                        params={'id': sid, 'rel_path': 'example.py'})
        assert r.status_code == 200, r.text
        assert r.json() == {'content': "print('Hello, World!')", 'id': sid,
                            'rel_path': 'example.py'}
        # 4. Evaluate code with test cases.
        r = await c.post(REPL + '/evaluate_code', json={
            'id': sid, 'code': 'def add(a, b):\n    return a + b',
            'entry_point': 'add',
            'io_cases': [{'input': 'a=1, b=2', 'output': '3'},
                         {'input': 'a=5, b=5', 'output': '10'}]})
        assert r.status_code == 200, r.text
        doc = r.json()
        assert doc['passed'] is True and doc['error'] is None, doc
        assert [(k['case'], k['passed'], k['got'], k['expected'], k['error'],
                 k['input']) for k in doc['case_results']] == \
            [(0, True, 3, 3, None, 'a=1, b=2'),
             (1, True, 10, 10, None, 'a=5, b=5')], doc
        # 5. Fork a session: a new id with the files, then independent.
        r = await c.post(REPL + '/fork_session', json={'id': sid})
        assert r.status_code == 200, r.text
        new = r.json()['new_id']
        assert set(r.json()) == {'new_id'} and new != sid
        assert str(uuid.UUID(new)) == new
        r = await c.get(REPL + '/read_file',
                        params={'id': new, 'rel_path': 'example.py'})
        assert r.json()['content'] == "print('Hello, World!')", r.text
        r = await c.post(REPL + '/write_file', json={
            'id': new, 'rel_path': 'only_child.txt', 'content': 'c'})
        assert r.status_code == 200
        r = await c.get(REPL + '/read_file',
                        params={'id': sid, 'rel_path': 'only_child.txt'})
        assert r.status_code == 404, r.text
        r = await c.post(REPL + '/run', json={'id': new,
                                              'cmd': 'python example.py'})
        assert r.json()['stdout'] == 'Hello, World!\n', r.text
        r = await c.post(REPL + '/fork_session',
                         json={'id': str(uuid.uuid4())})
        assert r.status_code == 404 and \
            r.json() == {'detail': 'Session to fork not found'}, r.text
    return sid


def test_repl_readme_examples(s):
    arun(_repl_readme(s))


async def _repl_client_flow(s):
    """The service's async client: create_session writes placeholder.txt,
    then write, run, evaluate, delete, rename."""
    async with aclient(s) as c:
        sid = str(uuid.uuid4())
        r = await c.post(REPL + '/write_file', json={
            'id': sid, 'rel_path': 'placeholder.txt', 'content': ''})
        assert r.status_code == 200, r.text
        r = await c.post(REPL + '/write_file', json={
            'id': sid, 'rel_path': 'pkg/./sub//mod.py',
            'content': "X = 'é'\nprint('Hello, REPL!')"})
        assert r.status_code == 200, r.text
        assert r.json()['rel_path'] == 'pkg/./sub//mod.py'  # as sent
        r = await c.get(REPL + '/read_file', params={
            'id': sid, 'rel_path': 'pkg/./sub//mod.py'})
        assert r.json()['rel_path'] == 'pkg/sub/mod.py'      # normalised
        assert r.json()['content'] == "X = 'é'\nprint('Hello, REPL!')"
        r = await c.post(REPL + '/run', json={
            'id': sid, 'cmd': 'python pkg/sub/mod.py; echo err >&2; ls'})
        assert r.json() == {'stdout': 'Hello, REPL!\npkg\nplaceholder.txt\n',
                            'stderr': 'err\n', 'id': sid}, r.json()
        r = await c.post(REPL + '/rename_file', json={
            'id': sid, 'old_path': 'pkg/sub/mod.py', 'new_path': 'a/b/c.py'})
        assert r.status_code == 200 and r.json() == {
            'success': True, 'id': sid, 'old_path': 'pkg/sub/mod.py',
            'new_path': 'a/b/c.py'}, r.text
        r = await c.post(REPL + '/delete_file', json={
            'id': sid, 'rel_path': 'a/b/c.py'})
        assert r.json() == {'success': True, 'id': sid,
                            'rel_path': 'a/b/c.py'}
        r = await c.get(REPL + '/read_file', params={
            'id': sid, 'rel_path': 'a/b/c.py'})
        assert r.status_code == 404, r.text
        assert r.json() == {'detail': 'File does not exist'}
        # The grader: failing cases, errors and timeouts, as the service
        # reported them (error strings; the traceback names no server path).
        r = await c.post(REPL + '/evaluate_code', json={
            'id': sid, 'entry_point': 'Solution().f',
            'code': ('class Solution:\n    def f(self, n):\n'
                     '        if n == 0: raise ValueError("zero")\n'
                     '        if n < 0:\n            while True: pass\n'
                     '        return n * 2\n'),
            'io_cases': [{'input': 'n=2', 'output': '4'},
                         {'input': '3', 'output': '7'},
                         {'input': 'n=0', 'output': '0'},
                         {'input': 'n=-1', 'output': '0'}]})
        assert r.status_code == 200, r.text
        res = r.json()['case_results']
        assert r.json()['passed'] is False
        assert [k['passed'] for k in res] == [True, False, False, False]
        assert res[1]['got'] == 6 and res[1]['error'] is None
        assert res[2]['error'].startswith('ValueError: zero\n'), res[2]
        assert '/usr/lib' not in res[2]['error'], res[2]
        assert res[3]['error'] == 'Timeout', res[3]


def test_repl_client_flow(s):
    arun(_repl_client_flow(s))


async def _repl_errors(s):
    async with aclient(s) as c:
        sid = str(uuid.uuid4())
        other = str(uuid.uuid4())
        r = await c.post(REPL + '/write_file', json={
            'id': other, 'rel_path': 'secret.txt', 'content': 'other'})
        assert r.status_code == 200
        # Path rules: traversal, absolute, empty.
        for rel in ('../x', 'a/../../x', '/etc/passwd', ''):
            r = await c.post(REPL + '/write_file', json={
                'id': sid, 'rel_path': rel, 'content': 'x'})
            assert r.status_code == 400, (rel, r.text)
            assert r.json()['detail'].startswith('Invalid path'), r.json()
        # The cross-session hole: "." (and friends) named every session.
        for bad in ('.', '..', '', 'a/b', '..\\x', 'x\n'):
            r = await c.get(REPL + '/read_file', params={
                'id': bad, 'rel_path': other + '/secret.txt'})
            assert r.status_code in (400, 404), (bad, r.text)
            assert 'other' not in r.text
            r = await c.post(REPL + '/run', json={'id': bad, 'cmd': 'ls'})
            assert r.status_code == 400, (bad, r.text)
        # Missing fields: FastAPI's 422 list.
        r = await c.post(REPL + '/write_file', json={'id': sid})
        assert r.status_code == 422, r.text
        assert r.json()['detail'][0]['loc'] == ['body', 'rel_path']
        r = await c.get(REPL + '/read_file', params={'id': sid})
        assert r.status_code == 422 and \
            r.json()['detail'][0]['loc'] == ['query', 'rel_path'], r.text
        r = await c.post(REPL + '/write_file', content=b'not json',
                         headers={'Content-Type': 'application/json'})
        assert r.status_code == 422, r.text
        # A session that was never written to does not exist.
        r = await c.post(REPL + '/run', json={'id': sid, 'cmd': 'ls'})
        assert r.status_code == 400, r.text
        assert r.json() == {'detail': 'Session does not exist'}
        # A missing file is 404 (the original: 500 with an empty detail).
        r = await c.post(REPL + '/delete_file', json={
            'id': other, 'rel_path': 'nope.txt'})
        assert r.status_code == 404 and \
            r.json() == {'detail': 'File does not exist'}, r.text
        r = await c.post(REPL + '/rename_file', json={
            'id': other, 'old_path': 'nope.txt', 'new_path': 'x.txt'})
        assert r.status_code == 404, r.text
        # A file that is not UTF-8 text: 400 with a reason.
        r = await c.post(REPL + '/run', json={
            'id': other, 'cmd': "printf '\\377\\376' > bin.dat"})
        assert r.status_code == 200, r.text
        r = await c.get(REPL + '/read_file', params={
            'id': other, 'rel_path': 'bin.dat'})
        assert r.status_code == 400 and 'UTF-8' in r.json()['detail']
        # Output that is not UTF-8: replacement characters, not a 500.
        r = await c.post(REPL + '/run', json={
            'id': other, 'cmd': "printf 'a\\377b'"})
        assert r.status_code == 200 and r.json()['stdout'] == 'a\ufffdb', \
            r.text
        # A symlink the session planted to a host file is never followed.
        r = await c.post(REPL + '/run', json={
            'id': other, 'cmd': 'ln -s /etc/hostname host.txt'})
        r = await c.get(REPL + '/read_file', params={
            'id': other, 'rel_path': 'host.txt'})
        assert r.status_code == 400, r.text
        # Unknown route and wrong method: JSON, never HTML.
        r = await c.post(REPL + '/nope', json={})
        assert r.status_code == 404 and r.json() == {'detail': 'Not Found'}
        r = await c.get(REPL + '/run')
        assert r.status_code == 405 and 'detail' in r.json()
        # The command's time limit: the original's 500 shape, with what the
        # command printed before it.
        r = await c.post(REPL + '/run', json={
            'id': other, 'cmd': 'echo started; sleep 60'})
        assert r.status_code == 500, r.text
        doc = r.json()
        assert doc['stdout'] == 'started\n' and doc['id'] == other, doc
        assert 'timed out' in doc['stderr'], doc


def test_repl_errors(s):
    arun(_repl_errors(s))


# ---- the Jupyter-kernel service ------------------------------------------

async def _ci_readme(s):
    user = str(uuid.uuid4())
    async with aclient(s, headers={'X-Auth-Token': s.compat_token}) as c:
        async def execute(code):
            r = await c.post(CI + '/execute',
                             json={'user_uuid': user, 'code': code})
            return r.status_code, r.json()
        # The README's example: a variable kept across calls.
        assert await execute('a = 100') == \
            (200, {'result_text': None, 'result_base64': None})
        assert await execute("print(f'The value of a is {a}')") == \
            (200, {'result_text': 'The value of a is 100\n',
                   'result_base64': None})
        # Streams then the value, as a kernel's messages join.
        st, doc = await execute('import sys\nprint("o")\n'
                                'print("e", file=sys.stderr)\na * 2')
        assert (st, doc['result_text']) == (200, 'o\ne\n200'), doc
        # An image: the last PNG, and then no text.
        st, doc = await execute(
            'import matplotlib.pyplot as plt\nprint("drawn")\n'
            'plt.plot([1, 2, 3])\nplt.show()')
        assert st == 200 and doc['result_text'] is None, doc
        assert base64.b64decode(doc['result_base64']).startswith(
            b'\x89PNG'), doc
        # A Python error: 400 with the type and message.
        assert await execute('zz') == (400, {
            'detail': "Python Execution Error: NameError: name 'zz' is "
                      "not defined"})
        st, doc = await execute('def f(:')
        assert st == 400 and doc['detail'].startswith(
            'Python Execution Error: SyntaxError'), doc
        # Release, then the state is gone (a fresh session next time).
        r = await c.post(CI + '/release', json={'user_uuid': user})
        assert r.status_code == 200 and r.json() == {
            'status': 'ok',
            'detail': 'Worker for user %s has been released.' % user}
        st, doc = await execute('a')
        assert st == 400 and 'NameError' in doc['detail'], doc
        # A cell that times out: 503, and the environment is reset.
        await execute('b = 1')
        t0 = time.monotonic()
        st, doc = await execute('import time\ntime.sleep(600)')
        assert st == 503 and 'has been reset' in doc['detail'], (st, doc)
        assert time.monotonic() - t0 < 120
        st, doc = await execute('b')
        assert st == 400 and 'NameError' in doc['detail'], doc
        r = await c.get(CI + '/status')
        doc = r.json()
        assert r.status_code == 200 and set(doc) == {
            'total_workers', 'busy_workers', 'is_initializing'}, doc
        assert doc['total_workers'] >= 1 and doc['is_initializing'] is False
        await c.post(CI + '/release', json={'user_uuid': user})
    # The token: wrong or missing is 401, and never lifts limits for
    # anything else.
    async with aclient(s) as c:
        for h in ({}, {'X-Auth-Token': 'wrong'},
                  {'X-Auth-Token': s.compat_token + 'x'}):
            for m, p in (('POST', '/execute'), ('POST', '/release'),
                         ('GET', '/status')):
                r = await c.request(m, CI + p, headers=h, json={
                    'user_uuid': 'u', 'code': '1'})
                assert r.status_code == 401, (h, p, r.text)
                assert r.json() == {
                    'detail': 'Invalid or missing authentication token'}
        r = await c.post(CI + '/execute', headers={
            'X-Auth-Token': s.compat_token}, json={'code': '1'})
        assert r.status_code == 422, r.text


def test_ci_readme_and_errors(s):
    arun(_ci_readme(s))


async def _ci_benchmark(s, users=25, steps=100):
    """The service's own benchmark: each user one scenario, 100 requests
    in sequence, every answer after the first verified (rel_tol 1e-9)."""
    limits = httpx.Limits(max_connections=35, max_keepalive_connections=20)
    stats = {'ok': 0, 'failed': 0, 'verified': 0, 'wrong': [], 'lat': []}
    async with aclient(s, limits=limits,
                       headers={'X-Auth-Token': s.compat_token}) as c:
        async def user(kind):
            uid = str(uuid.uuid4())
            total = lst = arr = None
            for i in range(steps):
                expect = None
                if kind == 'arith':
                    if i == 0:
                        total = random.randint(1000, 9999)
                        code = 'x = %d' % total
                    else:
                        k = random.randint(100, 999)
                        total += k
                        code, expect = 'x += %d; print(x)' % k, total
                elif kind == 'list':
                    if i == 0:
                        lst = random.sample(range(10, 100),
                                            random.randint(2, 4))
                        code = 'my_list = %r' % lst
                    else:
                        k = random.randint(100, 199)
                        lst.append(k)
                        code = 'my_list.append(%d); print(sum(my_list))' % k
                        expect = sum(lst)
                else:
                    phase = i % 3
                    if phase == 0:
                        arr = [random.randint(10, 50) for _ in range(3)]
                        code = ('import numpy as np; arr = np.array(%r)'
                                % arr)
                    elif phase == 1:
                        m = random.randint(2, 5)
                        arr = [v * m for v in arr]
                        code = 'arr = arr * %d; print(np.sum(arr))' % m
                        expect = sum(arr)
                    else:
                        code, expect = 'print(np.mean(arr))', sum(arr) / 3
                t0 = time.monotonic()
                try:
                    r = await c.post(CI + '/execute', timeout=45, json={
                        'user_uuid': uid, 'code': code})
                except httpx.HTTPError as e:
                    stats['failed'] += 1
                    stats['wrong'].append((kind, i, repr(e)))
                    continue
                dt = time.monotonic() - t0
                if r.status_code != 200:
                    stats['failed'] += 1
                    stats['wrong'].append((kind, i, r.status_code, r.text))
                    continue
                stats['ok'] += 1
                if expect is None:
                    stats['verified'] += 1
                    stats['lat'].append(dt)
                    continue
                try:
                    got = float((r.json()['result_text'] or '').strip())
                    good = math.isclose(got, expect, rel_tol=1e-9)
                except ValueError:
                    good = False
                if good:
                    stats['verified'] += 1
                    stats['lat'].append(dt)
                else:
                    stats['wrong'].append((kind, i, code, r.text))
            await c.post(CI + '/release', json={'user_uuid': uid},
                         timeout=10)
        kinds = [random.choice(('arith', 'list', 'numpy'))
                 for _ in range(users)]
        t0 = time.monotonic()
        await asyncio.gather(*(user(k) for k in kinds))
        wall = time.monotonic() - t0
    n = users * steps
    lat = sorted(stats['lat'])
    p95 = lat[int(0.95 * len(lat))] if len(lat) > 20 else (lat or [0])[-1]
    print('    compat benchmark: %d requests, %.1f req/s, %d ok, %d verified, '
          'p95 %.0f ms' % (n, n / wall, stats['ok'], stats['verified'],
                           p95 * 1000))
    assert stats['failed'] == 0 and stats['wrong'] == [], stats['wrong'][:5]
    assert stats['ok'] == n and stats['verified'] == n


def test_ci_benchmark_all_verified(s):
    arun(_ci_benchmark(s))


# ---- the Flask exec service ----------------------------------------------

async def _exec_readme(s):
    async with aclient(s) as c:
        async def execute(body):
            r = await c.post(EXEC + '/execute', json=body)
            return r.status_code, r.json()
        st, doc = await execute({'code': "print('Hello, World!')"})
        assert st == 200 and doc['stdout'] == 'Hello, World!\n', doc
        assert doc['stderr'] == '' and 'error' not in doc
        assert str(uuid.UUID(doc['id'])) == doc['id']
        # A session: the first call's id, then state kept.
        st, doc = await execute({'code': 'x = 5'})
        sid = doc['id']
        st, doc = await execute({'id': sid, 'code': 'print(x)'})
        assert (st, doc) == (200, {'id': sid, 'stdout': '5\n',
                                   'stderr': ''}), doc
        # A function sees the session's globals (the original's bug).
        st, doc = await execute({'id': sid, 'code': 'import math\n'
                                 'def f(): return math.floor(x * 1.5)\n'
                                 'print(f())'})
        assert doc['stdout'] == '7\n', doc
        # An exception: 200 with the message, the id kept.
        st, doc = await execute({'id': sid, 'code': 'print("a")\n1 / 0'})
        assert st == 200 and doc['id'] == sid, doc
        assert doc['error'] == 'division by zero', doc
        # File removal is not "restricted" by patching os: the sandbox
        # holds; a public caller cannot import os at all.
        st, doc = await execute({'id': sid, 'code':
                                 "import os; os.remove('file.txt')"})
        assert st == 200 and 'os' in doc['error'], doc
        # print(flush=True) works (the original's capture had no flush).
        st, doc = await execute({'id': sid, 'code': 'print(1, flush=True)'})
        assert doc['stdout'] == '1\n' and 'error' not in doc, doc
        # An unknown id gets a new session and a new id.
        st, doc = await execute({'id': 'no-such-session', 'code': 'print(2)'})
        assert st == 200 and doc['id'] != 'no-such-session', doc
        assert str(uuid.UUID(doc['id'])) == doc['id']
        # Bad requests: the original's message, as JSON.
        for body in ({}, {'id': sid}, {'code': 5}):
            st, doc = await execute(body)
            assert (st, doc) == (400, {
                'error': "Invalid request, 'code' is required"}), body
        r = await c.post(EXEC + '/execute', content=b'["code"]',
                         headers={'Content-Type': 'application/json'})
        assert r.status_code == 400 and 'error' in r.json()
        r = await c.get(EXEC + '/execute')
        assert r.status_code == 405 and 'error' in r.json()


def test_exec_readme_and_errors(s):
    arun(_exec_readme(s))


def test_compat_ids_are_not_native_ids(s):
    """A client's id never names a native session, and the compat
    namespaces are apart: the same id in two services is two sessions."""
    async def go():
        cid = str(uuid.uuid4())
        async with aclient(s) as c:
            await c.post(REPL + '/write_file', json={
                'id': cid, 'rel_path': 'v.txt', 'content': 'repl'})
            r = await c.post(EXEC + '/execute', json={
                'id': cid, 'code': 'print(open("v.txt").read())'})
            assert r.json()['id'] != cid		# not adopted
            r = await c.get('/sessions/' + cid)
            assert r.status_code == 404, r.text
    arun(go())
