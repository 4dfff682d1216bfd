"""GET /metrics and GET /status: who may read them, what they count, and
that counts from concurrent requests on every worker add up exactly; the
X-Request-Id of every answer and its place in the worker's log."""
import json
import re
import threading

WORKERS = 4


def metrics(s, headers=None):
    st, h, body = s.request('GET', '/metrics', headers=headers or {})
    assert st == 200, (st, body[:300])
    assert h['content-type'].startswith('text/plain; version=0.0.4'), h
    out = {}
    for line in body.decode().splitlines():
        if line.startswith('#') or not line.strip():
            continue
        name, _, value = line.rpartition(' ')
        out[name] = float(value)
    return out


def delta(after, before, key):
    return after.get(key, 0) - before.get(key, 0)


REQ = 'pyexec_http_requests_total{route="%s",code="%d",type="%s"}'


def test_access_rule(s):
    # Loopback is listed in the geo block: allowed without a key.
    assert s.request('GET', '/metrics')[0] == 200
    assert s.request('GET', '/status')[0] == 200
    far = {'X-Forwarded-For': '203.0.113.7'}
    for path in ('/metrics', '/status'):
        st, h, body = s.request('GET', path, headers=far)
        assert st == 403, (path, st)
        assert json.loads(body)['error_details']['type'] == 'Forbidden'
        # A wrong key is refused, not taken for a caller without one.
        st, h, body = s.request('GET', path, headers=dict(
            far, Authorization='Bearer wrong-key-0123456789'))
        assert st == 401, (path, st)
        st, h, body = s.request('GET', path, headers=dict(
            far, Authorization='Bearer ' + s.admin_key))
        assert st == 200, (path, st, body[:200])
        # The key in the body of /execute is not how these are asked for,
        # and a client cannot set nginx's verdict itself.
        st, _, _ = s.request('GET', path, headers=dict(
            far, **{'Pyexec-Metrics-Allowed': '1'}))
        assert st == 403
    st, h, _ = s.request('POST', '/metrics', body=b'')
    assert st == 405 and h.get('allow') == 'GET, HEAD'
    st, h, body = s.request('HEAD', '/metrics')
    assert st == 200 and body == b''


def test_concurrent_requests_add_up_exactly(s):
    """N concurrent requests over every worker give exactly N."""
    n, threads = 120, 12
    before = metrics(s)
    errors = []

    def worker(k):
        conn = s.connection()
        try:
            for _ in range(n // threads):
                st = s.request('GET', '/healthz', conn=conn)[0]
                if st != 200:
                    errors.append(st)
        except Exception as e:
            errors.append(repr(e))
        finally:
            conn.close()
    ts = [threading.Thread(target=worker, args=(k,)) for k in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not errors, errors[:5]
    after = metrics(s)
    assert delta(after, before, REQ % ('/healthz', 200, '')) == n


def test_concurrent_runs_counted_exactly(s):
    """Runs in flight together, more than there are slots: every answer
    is counted once, as a run (200) or a busy refusal (503)."""
    n = 12
    before = metrics(s)
    statuses = []
    lock = threading.Lock()

    def one():
        st, doc, _ = s.execute({'code': 'print(1)', 'api_key': s.admin_key})
        with lock:
            statuses.append(st)
    ts = [threading.Thread(target=one) for _ in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    after = metrics(s)
    ok, busy = statuses.count(200), statuses.count(503)
    assert ok + busy == n and ok >= 1, statuses
    assert delta(after, before, REQ % ('/execute', 200, '')) == ok
    assert delta(after, before, REQ % ('/execute', 503, 'ServerBusy')) == busy
    assert delta(after, before, 'pyexec_busy_refusals_total') == busy
    assert delta(after, before,
                 'pyexec_runs_total{termination="exited"}') == ok
    assert delta(after, before, 'pyexec_run_duration_seconds_count') == ok
    assert delta(after, before,
                 'pyexec_run_duration_seconds_bucket{le="+Inf"}') == ok
    assert delta(after, before, 'pyexec_run_duration_seconds_sum') > 0
    assert after['pyexec_runs_in_flight'] == 0
    assert after['pyexec_run_slots'] == int(s.config.get('max_concurrent', 5))
    assert after['pyexec_metrics_shared'] == 1


def test_kinds_of_answers_counted(s):
    before = metrics(s)
    s.execute({'code': 'import os, signal\nos.kill(os.getpid(), signal.SIGKILL)',
               'api_key': s.admin_key})
    s.execute({'code': 'x = ('})
    s.execute({})
    s.request('GET', '/no/such/path')
    after = metrics(s)
    assert delta(after, before,
                 'pyexec_runs_total{termination="signaled"}') == 1
    assert delta(after, before, REQ % ('/execute', 400, 'SyntaxError')) == 1
    assert delta(after, before, REQ % ('/execute', 400, 'InvalidRequest')) == 1
    assert delta(after, before, REQ % ('other', 404, 'NotFound')) == 1
    # The raw path never becomes a label.
    st, _, body = s.request('GET', '/metrics')
    assert b'/no/such/path' not in body


def test_grader_and_sessions_by_route(s):
    """/evaluate and the session routes have labels of their own; a
    session's id (its bearer secret) never becomes one."""
    from sess_helpers import call, create, cell
    before = metrics(s)
    st, doc, _ = call(s, 'POST', '/evaluate', {
        'code': 'def f(x): return x', 'entry_point': 'f',
        'cases': [{'args': [1], 'expected': 1}]}, admin=True)
    assert st == 200 and doc['passed'] is True, (st, doc)
    sid = create(s)
    cell(s, sid, 'x = 1')
    assert call(s, 'GET', '/sessions/%s/files' % sid)[0] == 200
    assert call(s, 'DELETE', '/sessions/%s' % sid)[0] == 200
    assert call(s, 'POST', '/sessions/%s/execute' % sid,
                {'code': '1'})[0] == 404
    after = metrics(s)
    assert delta(after, before, REQ % ('/evaluate', 200, '')) == 1
    assert delta(after, before, REQ % ('/sessions', 201, '')) == 1
    assert delta(after, before,
                 REQ % ('/sessions/{id}/execute', 200, '')) == 1
    assert delta(after, before,
                 REQ % ('/sessions/{id}/execute', 404,
                        'SessionNotFound')) == 1
    assert delta(after, before, REQ % ('/sessions/{id}', 200, '')) == 2
    st, _, body = s.request('GET', '/metrics')
    assert sid.encode() not in body


def test_status_matches_metrics(s):
    st, h, body = s.request('GET', '/status')
    doc = json.loads(body)
    m = metrics(s)
    assert doc['status'] == 'ok' and doc['metrics_shared'] is True
    assert doc['slots']['max_concurrent'] == m['pyexec_run_slots']
    assert doc['runs']['by_termination']['exited'] <= \
        m['pyexec_runs_total{termination="exited"}']
    assert doc['worker_starts'] >= WORKERS
    assert doc['requests']['total'] >= \
        doc['requests']['by_route']['/execute']['by_status'].get('200', 0)


def test_request_id_everywhere(s):
    ids = set()
    for method, path, body, hdrs in (
            ('GET', '/healthz', None, {}),
            ('GET', '/', None, {}),
            ('GET', '/openapi.json', None, {}),
            ('GET', '/nope', None, {}),
            ('POST', '/execute', b'{"code": "print(1)"}',
             {'Content-Type': 'application/json'}),
            ('POST', '/execute', b'x' * (64 << 20), {})):	# nginx's 413
        st, h, _ = s.request(method, path, body=body, headers=hdrs)
        rid = h.get('x-request-id')
        assert rid and re.fullmatch('[0-9a-f]{32}', rid), (path, st, rid)
        ids.add(rid)
    assert len(ids) == 6
    # The worker's log line carries the id of a request it answered.
    st, h, _ = s.request('GET', '/nope-%s' % 'x')
    rid = h['x-request-id']
    for _ in range(50):
        if 'rid=' + rid in s.worker_log_text():
            break
        threading.Event().wait(0.1)
    assert 'rid=' + rid in s.worker_log_text()
