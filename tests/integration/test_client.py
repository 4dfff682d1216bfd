"""clients/python against the real stack: the library (sync and async,
typed results, files both ways, exceptions), then the package installed
into a virtualenv with pip and no network, and its `pyexec` CLI."""
import asyncio
import os
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
CLIENT_SRC = os.path.join(REPO, 'clients', 'python')
sys.path.insert(0, CLIENT_SRC)
import pyexec_client as px  # noqa: E402

MODES = ('zygote',)		# the client does not depend on the run mode
PY = '/usr/bin/python3'


def client(s, key=None):
    return px.Client('https://%s:%d' % (s.host, s.port), key, cacert=s.cert)


def test_execute_typed_result_and_files(s):
    c = client(s)
    r = c.execute('import sys\ndata = open("in.bin", "rb").read()\n'
                  'open("out.bin", "wb").write(data[::-1])\n'
                  'print(sys.stdin.read().upper(), end="")\n'
                  'print("warn", file=sys.stderr)',
                  stdin='hello\n', files={'in.bin': b'\x00\x01\xff'},
                  return_files=['out.bin', 'missing.txt'])
    assert isinstance(r, px.ExecutionResult)
    assert (r.stdout, r.stderr, r.exit_code, r.success, r.termination) == \
        ('HELLO\n', 'warn\n', 0, True, 'exited')
    assert r.files['out.bin'].content == b'\xff\x01\x00'
    assert r.files['out.bin'].size == 3
    assert not r.files['missing.txt'].ok
    assert 'not found' in r.files['missing.txt'].error
    assert r.duration > 0 and r.request_id and len(r.request_id) == 32
    assert r.user_info['requests_today'] >= 1
    r = c.execute('print("\\xff".encode("latin-1").decode("latin-1"))')
    assert r.stdout_bytes == r.stdout.encode()


def test_exceptions(s):
    c = client(s)
    try:
        c.execute('def f(:\n pass')
        raise AssertionError('no exception')
    except px.CodeSyntaxError as e:
        assert e.status == 400 and e.line == 1 and e.request_id
    try:
        c.execute('import socket')
        raise AssertionError('no exception')
    except px.ForbiddenImport as e:
        assert e.disallowed == ['socket']
    try:
        c.execute('x' * 100000)
        raise AssertionError('no exception')
    except px.InvalidRequest as e:
        assert e.type == 'ValidationError'
    try:
        px.Client('https://%s:%d' % (s.host, s.port)).health()
        raise AssertionError('an unknown certificate was trusted')
    except px.TransportError as e:
        assert 'certificate' in str(e).lower()
    r = c.execute('raise SystemExit(3)')
    assert r.exit_code == 3 and not r.success		# not an exception


def test_admin_status_metrics_async(s):
    c = client(s, s.admin_key)
    assert c.health()
    assert c.status()['status'] == 'ok'
    assert 'pyexec_runs_total' in c.metrics()
    assert c.execute('import os\nprint(os.getpid() > 0)').stdout == 'True\n'
    assert c.supports_sessions()

    async def many():
        async with px.AsyncClient('https://%s:%d' % (s.host, s.port),
                                  s.admin_key, cacert=s.cert) as ac:
            return await asyncio.gather(*(ac.execute('print(%d)' % i)
                                          for i in range(4)),
                                        return_exceptions=True)
    out = asyncio.run(many())
    ok = [r.stdout for r in out if isinstance(r, px.ExecutionResult)]
    assert all(isinstance(r, (px.ExecutionResult, px.Busy)) for r in out), out
    assert set(ok) <= {'0\n', '1\n', '2\n', '3\n'} and ok


def test_sessions(s):
    c = client(s, s.admin_key)
    with c.session(files={'in.txt': 'seven'}) as ses:
        assert isinstance(ses, px.Session) and len(ses.id) >= 22
        r = ses.execute('x = open("in.txt").read()\nlen(x)')
        assert isinstance(r, px.CellResult) and r.ok and r.result == '5', r
        r = ses.execute('print(x.upper())\nx * 2')
        assert (r.stdout, r.result) == ('SEVEN\n', "'sevenseven'"), r
        r = ses.execute('1 / 0')
        assert not r.ok and r.error['type'] == 'ZeroDivisionError', r
        assert r.session_alive
        r = ses.execute('import matplotlib.pyplot as plt\n'
                        'plt.plot([1, 2])\nNone')
        assert [d.mime_type for d in r.display] == ['image/png'], r.display
        assert r.display[0].data.startswith(b'\x89PNG')
        ses.write('dir/blob.bin', b'\x00\xff' * 10)
        assert ses.read('dir/blob.bin') == b'\x00\xff' * 10
        assert ses.execute('len(open("dir/blob.bin", "rb").read())'
                           ).result == '20'
        ses.move('dir/blob.bin', 'moved.bin')
        names = {f['path'] for f in ses.files()}
        assert 'moved.bin' in names and 'in.txt' in names, names
        ses.remove('moved.bin')
        try:
            ses.read('moved.bin')
            raise AssertionError('read a removed file')
        except px.FileNotFound as e:
            assert e.status == 404
        assert ses.run('echo $((6 * 7))').stdout == '42\n'
        assert ses.info()['executions'] >= 5
        again = c.attach(ses.id)
        assert again.execute('x').result == "'seven'"
        sid = ses.id
    assert ses.closed
    try:
        c.attach(sid)
        raise AssertionError('a closed session answered')
    except px.SessionNotFound as e:
        assert e.status == 404
    ses.close()			# closing twice is not an error


def test_evaluate(s):
    c = client(s, s.admin_key)
    ev = c.evaluate('def add(a, b):\n    return a + b', entry_point='add',
                    io_cases=[{'input': 'a=1, b=2', 'output': '3'},
                              {'input': 'a=2, b=2', 'output': '5'}])
    assert isinstance(ev, px.Evaluation)
    assert (ev.passed, ev.passed_count, ev.total) == (False, 1, 2), ev
    assert [k['passed'] for k in ev.cases] == [True, False]
    ev = c.evaluate('print(sum(map(int, input().split())))',
                    cases=[{'stdin': '1 2\n', 'expected_stdout': '3'}],
                    comparator='lines')
    assert ev.passed and ev.total == 1, ev
    try:
        c.evaluate('def f(): pass', entry_point='f',
                   io_cases=[{'input': '__import__("os")', 'output': '1'}])
        raise AssertionError('an unparsable case was accepted')
    except px.InvalidRequest as e:
        assert e.status == 400


def test_pip_install_offline_and_cli(s):
    with tempfile.TemporaryDirectory() as tmp:
        venv = os.path.join(tmp, 'venv')
        # The host's pip installs into the virtualenv (--python): the same
        # pip, without the slow copy of pip into every new virtualenv.
        subprocess.run([PY, '-m', 'venv', '--without-pip', venv], check=True)
        env = dict(os.environ, PIP_NO_INDEX='1', PIP_DISABLE_PIP_VERSION_CHECK='1',
                   PIP_NO_CACHE_DIR='1')
        env.pop('PYTHONPATH', None)
        p = subprocess.run([PY, '-m', 'pip', '--python',
                            os.path.join(venv, 'bin', 'python'), 'install',
                            '--no-index', CLIENT_SRC], env=env,
                           capture_output=True, text=True)
        assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:]
        cli = os.path.join(venv, 'bin', 'pyexec')
        script = os.path.join(tmp, 'script.py')
        with open(script, 'w') as f:
            f.write('import sys\nwords = open("words.txt").read().split()\n'
                    'open("n.txt", "w").write(str(len(words)))\n'
                    'print(sys.stdin.read().strip() + "!")\n'
                    'print("to stderr", file=sys.stderr)\nsys.exit(7)\n')
        with open(os.path.join(tmp, 'words.txt'), 'w') as f:
            f.write('a b c d\n')
        with open(os.path.join(tmp, 'in.txt'), 'w') as f:
            f.write('hi\n')
        out = os.path.join(tmp, 'out')
        env = {'PATH': '/usr/bin:/bin', 'HOME': tmp,
               'PYEXEC_URL': 'https://%s:%d' % (s.host, s.port),
               'SSL_CERT_FILE': s.cert}
        p = subprocess.run([cli, 'run', script, '--stdin',
                            os.path.join(tmp, 'in.txt'), '--attach',
                            os.path.join(tmp, 'words.txt'), '--get', 'n.txt',
                            '--output-dir', out], env=env,
                           capture_output=True, text=True, timeout=300)
        assert (p.returncode, p.stdout, p.stderr) == (7, 'hi!\n', 'to stderr\n'), p
        with open(os.path.join(out, 'n.txt')) as f:
            assert f.read() == '4'
        # --cacert instead of SSL_CERT_FILE; a pyexec error exits 125.
        env.pop('SSL_CERT_FILE')
        with open(script, 'w') as f:
            f.write('import socket\n')
        p = subprocess.run([cli, '--cacert', s.cert, 'run', script], env=env,
                           capture_output=True, text=True, timeout=300)
        assert p.returncode == 125 and 'ForbiddenImportError' in p.stderr, p
        # Without the certificate, no silent fallback: it fails.
        p = subprocess.run([cli, 'health'], env=env, capture_output=True,
                           text=True, timeout=300)
        assert p.returncode == 125 and 'certificate' in p.stderr.lower(), p
        # The API key from the environment reaches the server.
        key = os.path.join(tmp, 'k')
        with open(key, 'w') as f:
            f.write(s.admin_key + '\n')
        p = subprocess.run([cli, '--cacert', s.cert, '--api-key-file', key,
                            'status'], env=env, capture_output=True,
                           text=True, timeout=300)
        assert p.returncode == 0 and '"status": "ok"' in p.stdout, p
        with open(script, 'w') as f:
            f.write('import os\nprint(len(os.environ) >= 0)\n')
        p = subprocess.run([cli, '--cacert', s.cert, 'run', script],
                           env=dict(env, PYEXEC_API_KEY=s.admin_key),
                           capture_output=True, text=True, timeout=300)
        assert (p.returncode, p.stdout) == (0, 'True\n'), p
