"""Sessions (issue 11), priority 1: create, execute with module-like state,
results, errors, SystemExit, fd-level output, GET and DELETE, 404/409/503."""
import os
import re
import signal
import threading
import time

from sess_helpers import call, create, run, cell, delete
from test_sessions_lifetime import _workers

CONFIG = {'max_sessions': 3, 'max_sessions_per_ip': 2,
          'rate_limit_per_minute': 1000, 'daily_quota': 100000}


def test_session_state_persists_like_a_module(s):
    sid = create(s)
    assert re.fullmatch(r's1[A-Za-z0-9_-]{32}', sid), sid
    assert cell(s, sid, 'x = 41\nimport math')['result'] is None
    d = cell(s, sid, 'x += 1\nprint(x)')
    assert d['stdout'] == '42\n', d
    # seed 004's bug: a function must see module globals, later ones too
    cell(s, sid, 'def f():\n    return x + y + math.floor(0.5)')
    cell(s, sid, 'y = 100')
    assert cell(s, sid, 'f()')['result'] == '142'
    assert cell(s, sid, '1+1')['result'] == '2'
    assert cell(s, sid, '"a"')['result'] == "'a'"
    assert cell(s, sid, 'None')['result'] is None
    d = cell(s, sid, 'class C: pass\nC.__module__, __name__')
    assert d['result'] == "('__main__', '__main__')", d
    assert d['session_alive'] is True and d['error'] is None
    assert delete(s, sid)[0] == 200


def test_session_starts_empty_after_its_warm_up(s):
    """A new session runs constant cells before it is announced (boot.py,
    _pyexec_session's warm): nothing of them may show in the first call,
    not a name, not `_`, not a line of output, not a cell number; in an
    admin session and in a public one (whose import check they pass
    through: its first cell can import only what the policy allows)."""
    admin_cell = ('import builtins, linecache, sys\n'
                  'names = sorted(k for k in globals() if k[:2] != "__")\n'
                  'print(names, hasattr(builtins, "_"),\n'
                  '      sorted(k for k in linecache.cache if k[:1] == "<"),\n'
                  '      type(sys.stdin).__name__, sys.stdin.read() == "")')
    public_cell = ('names = sorted(k for k in globals() if k[:2] != "__")\n'
                   'print(names, hasattr(__builtins__, "_"))')
    for admin, ip, code, want in (
            (True, None, admin_cell, "['builtins', 'linecache', 'sys'] False "
             "['<cell-1>'] StringIO True\n"),
            (False, '198.51.100.71', public_cell, '[] False\n')):
        sid = create(s, admin=admin, ip=ip)
        d = cell(s, sid, code, admin=admin, ip=ip)
        assert d['stdout'] == want, (admin, d)
        assert d['stderr'] == '' and d['error'] is None, (admin, d)
        assert d['result'] is None and d['display'] == [], (admin, d)
        st, doc, _ = call(s, 'GET', '/sessions/' + sid)
        assert st == 200 and doc['executions'] == 1, doc
        e = cell(s, sid, 'n', admin=admin, ip=ip)['error']
        assert e['type'] == 'NameError' and '<cell-2>' in e['traceback'], e
        assert delete(s, sid)[0] == 200


def test_session_errors_and_systemexit(s):
    sid = create(s)
    d = cell(s, sid, 'print("before")\n1/0')
    assert d['stdout'] == 'before\n'
    e = d['error']
    assert e['type'] == 'ZeroDivisionError', e
    assert '<cell-1>' in e['traceback'], e
    assert '/run/' not in e['traceback'] and 'boot' not in e['traceback'], e
    assert d['session_alive'] is True
    d = cell(s, sid, 'raise SystemExit(3)')
    assert d['error']['type'] == 'SystemExit', d
    assert d['session_alive'] is True
    assert cell(s, sid, '7*6')['result'] == '42'
    st, doc, _ = run(s, sid, 'x = (')
    assert st == 400 and doc['error_details']['type'] == 'SyntaxError', doc
    delete(s, sid)


def test_session_captures_child_process_output(s):
    sid = create(s)
    d = cell(s, sid, 'import os, subprocess\nos.system("echo from-shell")\n'
             'subprocess.run(["/bin/sh", "-c", "echo err-child >&2"])\n'
             'print("py")')
    assert 'from-shell\n' in d['stdout'] and 'py\n' in d['stdout'], d
    assert 'err-child' in d['stderr'], d
    delete(s, sid)


def test_session_get_and_delete(s):
    sid = create(s)
    cell(s, sid, 'a = 1')
    st, doc, _ = call(s, 'GET', '/sessions/' + sid)
    assert st == 200, doc
    assert doc['session_id'] == sid and doc['executions'] == 1, doc
    assert doc['busy'] is False
    if getattr(s, 'cgroups', None):
        assert doc['memory_bytes'] > 1 << 20, doc     # the session's cgroup
    assert delete(s, sid)[0] == 200
    for method, path in (('GET', '/sessions/' + sid),
                         ('POST', '/sessions/%s/execute' % sid),
                         ('DELETE', '/sessions/' + sid),
                         ('GET', '/sessions/s1' + 'A' * 32),
                         ('GET', '/sessions/nonsense'),
                         ):
        st, doc, _ = call(s, method, path, {'code': '1'} if method == 'POST'
                          else None, admin=method == 'POST')
        assert st == 404 and doc['error_details']['type'] == 'SessionNotFound', \
            (method, path, st, doc)


def test_session_busy_answers_at_once(s):
    sid = create(s)
    t = threading.Thread(target=run, args=(s, sid, 'import time\ntime.sleep(4)'))
    t.start()
    time.sleep(1.5)
    t0 = time.monotonic()
    st, doc, _ = run(s, sid, '1')
    took = time.monotonic() - t0
    t.join()
    assert st == 409 and doc['error_details']['type'] == 'SessionBusy', doc
    assert took < 3, took
    delete(s, sid)


def test_session_max_sessions_gives_503(s):
    sids = [create(s) for _ in range(3)]
    try:
        st, doc, hdrs = call(s, 'POST', '/sessions', {}, admin=True)
        assert st == 503 and doc['error_details']['type'] == 'ServerBusy', doc
        assert 'retry-after' in hdrs
    finally:
        for sid in sids:
            delete(s, sid)
    delete(s, create(s))


def test_session_outlives_killed_workers(s):
    s.run_cost()     # calibrated while workers are up
    sid = create(s)
    cell(s, sid, 'marker = "still-here"')
    victims = _workers(s)
    assert victims
    for w in victims:
        os.kill(w, signal.SIGKILL)
    deadline = time.monotonic() + s.slack(200, 60)
    while True:
        st, doc, _ = run(s, sid, 'marker')
        if st == 200 or time.monotonic() > deadline:
            break
        assert st in (502, 503), (st, doc)     # workers restarting
        time.sleep(0.5)
    assert st == 200, (st, doc)
    assert doc['execution_details']['result'] == "'still-here'", doc
    assert not (_workers(s) & victims)
    delete(s, sid)
