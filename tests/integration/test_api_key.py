"""The admin key as "Authorization: Bearer KEY" on every route; a key that
is given and wrong (header or body api_key) is 401 InvalidApiKey with one
message whichever was wrong; no key is a public caller; the key is in no
log."""
import glob
import os

from helpers import err, ok

# Imports public callers may not make: only an admin's run gets past.
ADMIN_CODE = 'import os\nprint(os.getpid() > 0)'
FAR = '203.0.113.77'   # not listed in nginx's geo block


def bearer(key):
    return {'Authorization': 'Bearer ' + key}


def test_header_makes_an_admin_on_execute(s):
    d = ok(s.execute({'code': ADMIN_CODE}, ip=FAR, headers=bearer(s.admin_key)))
    assert d['stdout'] == 'True\n'
    st, doc, _ = s.execute({'code': 'print(1)'}, ip=FAR,
                           headers=bearer(s.admin_key))
    assert doc['user_info'] == {'role': 'admin', 'rate_limits_applied': False}, doc


def test_header_and_body_together(s):
    d = ok(s.execute({'code': ADMIN_CODE, 'api_key': s.admin_key}, ip=FAR,
                     headers=bearer(s.admin_key)))
    assert d['stdout'] == 'True\n'


def test_header_on_metrics_and_status(s):
    for path in ('/metrics', '/status'):
        st, _, body = s.request('GET', path, headers=dict(
            bearer(s.admin_key), **{'X-Forwarded-For': FAR}))
        assert st == 200, (path, st, body[:200])
        st, _, _ = s.request('GET', path, headers={'X-Forwarded-For': FAR})
        assert st == 403, (path, st)


def wrong_key_answers(s):
    wrong = 'x' * len(s.admin_key)
    near = s.admin_key[:-1] + ('0' if s.admin_key[-1] != '0' else '1')
    yield s.execute({'code': 'print(1)', 'api_key': wrong}, ip=FAR)
    yield s.execute({'code': 'print(1)', 'api_key': near}, ip=FAR)
    yield s.execute({'code': 'print(1)', 'api_key': ''}, ip=FAR)
    yield s.execute({'code': 'print(1)'}, ip=FAR, headers=bearer(near))
    yield s.execute({'code': 'print(1)'}, ip=FAR,
                    headers={'Authorization': s.admin_key})  # no scheme
    # One right and one wrong is still wrong, either way round.
    yield s.execute({'code': 'print(1)', 'api_key': s.admin_key}, ip=FAR,
                    headers=bearer(wrong))
    yield s.execute({'code': 'print(1)', 'api_key': wrong}, ip=FAR,
                    headers=bearer(s.admin_key))


def test_wrong_key_is_401_both_ways(s):
    messages = set()
    for st, doc, h in wrong_key_answers(s):
        doc = err((st, doc, h), 401, 'InvalidApiKey')
        messages.add(doc['error_details']['message'])
        assert h.get('www-authenticate', '').startswith('Bearer'), h
        assert 'user_info' in doc and 'server_status' in doc, doc
    # No hint which part was wrong.
    assert len(messages) == 1, messages
    for path in ('/metrics', '/status'):
        for hdrs in (bearer('y' * 32), dict(bearer('y' * 32),
                                             **{'X-Forwarded-For': FAR})):
            st, h, body = s.request('GET', path, headers=hdrs)
            assert st == 401, (path, st, body[:200])
            assert h.get('www-authenticate', '').startswith('Bearer'), h


def test_wrong_key_is_not_charged(s):
    ip = '203.0.113.78'
    st, doc, _ = s.execute({'code': 'print(1)'}, ip=ip)
    before = doc['user_info']['requests_today']
    for _ in range(3):
        err(s.execute({'code': 'print(1)', 'api_key': 'z' * 20}, ip=ip),
            401, 'InvalidApiKey')
    st, doc, _ = s.execute({'code': 'print(1)'}, ip=ip)
    assert doc['user_info']['requests_today'] == before + 1, doc


def test_no_key_is_public(s):
    st, doc, _ = s.execute({'code': 'print(1)'}, ip=FAR)
    ok((st, doc, _))
    assert 'ip_address' in doc['user_info'], doc
    err(s.execute({'code': ADMIN_CODE}, ip=FAR), 400, 'ForbiddenImportError')
    assert s.request('GET', '/metrics', headers={'X-Forwarded-For': FAR})[0] == 403
    # Loopback is listed in nginx's geo block: allowed without a key.
    assert s.request('GET', '/status')[0] == 200
    assert s.request('GET', '/healthz')[0] == 200


def test_key_in_no_log(s):
    s.execute({'code': 'print(1)'}, ip=FAR, headers=bearer(s.admin_key))
    s.execute({'code': 'print(1)'}, ip=FAR, headers=bearer('w' * 40 + 'leak'))
    s.request('GET', '/metrics', headers=bearer(s.admin_key))
    for path in glob.glob(os.path.join(s.base, '*.log')):
        with open(path, errors='replace') as f:
            text = f.read()
        assert s.admin_key not in text, path
        assert 'w' * 40 + 'leak' not in text, path


def test_sessions_take_the_header_and_refuse_a_wrong_key(s):
    import json
    hdr = dict(bearer(s.admin_key), **{'Content-Type': 'application/json',
                                       'X-Forwarded-For': FAR})
    st, _, body = s.request('POST', '/sessions', body=b'{}', headers=hdr)
    assert st == 201, (st, body[:300])
    sid = json.loads(body)['session_id']
    try:
        # An admin session: the import policy does not apply to it.
        st, _, body = s.request('POST', '/sessions/%s/execute' % sid,
                                body=json.dumps({'code': ADMIN_CODE}).encode(),
                                headers={'Content-Type': 'application/json'})
        assert st == 200, (st, body[:300])
        assert json.loads(body)['execution_details']['stdout'] == 'True\n'
        for h, b in ((bearer('wrong'), b'{}'),
                     ({}, json.dumps({'api_key': 'wrong'}).encode())):
            h = dict(h, **{'Content-Type': 'application/json'})
            st, _, body = s.request('POST', '/sessions', body=b, headers=h)
            assert st == 401 and json.loads(body)['error_details'][
                'type'] == 'InvalidApiKey', (st, body[:300])
            st, _, body = s.request('POST', '/sessions/%s/execute' % sid,
                                    body=b'{"code": "1"}' if not b.startswith(
                                        b'{"api') else json.dumps(
                                        {'code': '1', 'api_key': 'wrong'}
                                    ).encode(), headers=h)
            assert st == 401, (st, body[:300])
    finally:
        s.request('DELETE', '/sessions/%s' % sid)
