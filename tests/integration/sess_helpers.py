"""Helpers for the session tests (tests/integration/test_sessions*.py)."""
import json


def call(s, method, path, payload=None, ip=None, admin=False, raw=None,
         headers=None, timeout=120):
    h = {}
    if payload is not None or raw is not None:
        h['Content-Type'] = 'application/json'
    if ip:
        h['X-Forwarded-For'] = ip
    h.update(headers or {})
    if admin:
        payload = dict(payload or {}, api_key=s.admin_key)
        h['Content-Type'] = 'application/json'
    body = raw if raw is not None else (
        json.dumps(payload).encode() if payload is not None else None)
    st, hdrs, data = s.request(method, path, body, h, timeout=timeout)
    try:
        doc = json.loads(data)
    except ValueError:
        doc = data
    return st, doc, hdrs


def create(s, admin=True, ip=None, payload=None):
    st, doc, _ = call(s, 'POST', '/sessions', payload or {}, ip=ip,
                      admin=admin)
    assert st == 201, (st, doc)
    return doc['session_id']


def run(s, sid, code, admin=True, ip=None, **kw):
    p = dict(kw, code=code)
    return call(s, 'POST', '/sessions/%s/execute' % sid, p, ip=ip, admin=admin)


def cell(s, sid, code, **kw):
    st, doc, _ = run(s, sid, code, **kw)
    assert st == 200, (st, doc)
    return doc['execution_details']


def delete(s, sid):
    return call(s, 'DELETE', '/sessions/%s' % sid)
