"""Sessions (issue 11): public callers. Creating a session and every
execute/run is charged like one /execute (per-minute limit and daily
quota), reading state and files is not; at most max_sessions_per_ip live
public sessions per address; the import policy holds in public sessions
and not in admin ones, for the session's whole life."""
from sess_helpers import call, create, run, delete

CONFIG = {'max_sessions': 6, 'max_sessions_per_ip': 2,
          'rate_limit_per_minute': 1000, 'daily_quota': 9}

IP = '198.51.100.77'


def test_public_sessions_are_charged_and_capped_per_address(s):
    st, doc, _ = call(s, 'POST', '/sessions', {}, ip=IP)
    assert st == 201, doc
    a = doc['session_id']
    st, doc, _ = run(s, a, 'x = 1', admin=False, ip=IP)
    assert st == 200, doc
    assert doc['user_info']['requests_today'] == 2, doc
    st, doc, _ = call(s, 'POST', '/sessions/%s/run' % a, {'cmd': 'echo hi'},
                      ip=IP)
    assert st == 200 and doc['execution_details']['stdout'] == 'hi\n', doc
    assert doc['user_info']['requests_today'] == 3, doc
    # Reads cost nothing.
    assert call(s, 'GET', '/sessions/' + a, ip=IP)[0] == 200
    assert call(s, 'GET', '/sessions/%s/files' % a, ip=IP)[0] == 200
    st, doc, _ = call(s, 'POST', '/sessions', {}, ip=IP)
    assert st == 201, doc
    b = doc['session_id']
    assert doc is not None
    # A third live session from this address is refused, and not charged.
    st, doc, hdrs = call(s, 'POST', '/sessions', {}, ip=IP)
    assert st == 429 and doc['error_details']['type'] == 'RateLimitExceeded', doc
    assert 'sessions' in doc['error_details']['message'], doc
    assert 'retry-after' in hdrs
    # Another address is not affected; an admin neither.
    st, doc, _ = call(s, 'POST', '/sessions', {}, ip='198.51.100.78')
    assert st == 201, doc
    delete(s, doc['session_id'])
    # Releasing one makes room.
    assert delete(s, b)[0] == 200
    st, doc, _ = call(s, 'POST', '/sessions', {}, ip=IP)
    assert st == 201, doc
    c = doc['session_id']
    assert doc is not None
    # The quota is shared with /execute: 5 charged so far.
    for i in range(4):
        st, doc, _ = run(s, a, 'x += 1', admin=False, ip=IP)
        assert st == 200, (i, doc)
    st, doc, hdrs = run(s, a, 'x', admin=False, ip=IP)
    assert st == 429 and 'Daily quota' in doc['error_details']['message'], doc
    delete(s, a)
    delete(s, c)


def test_public_session_keeps_the_import_policy(s):
    ip = '198.51.100.90'
    st, doc, _ = call(s, 'POST', '/sessions', {}, ip=ip)
    assert st == 201, doc
    sid = doc['session_id']
    st, doc, _ = run(s, sid, 'import socket', admin=False, ip=ip)
    assert st == 400 and doc['error_details']['type'] == 'ForbiddenImportError', doc
    assert doc['error_details']['disallowed'] == ['socket'], doc
    # An admin key on a call does not make a public session an admin one.
    st, doc, _ = run(s, sid, 'import socket', admin=True, ip=ip)
    assert st == 400 and doc['error_details']['type'] == 'ForbiddenImportError', doc
    delete(s, sid)
    adm = create(s, admin=True, ip=ip)
    st, doc, _ = run(s, adm, 'import socket\nsocket.AF_UNIX > 0', admin=False,
                     ip=ip)
    assert st == 200 and doc['execution_details']['result'] == 'True', doc
    assert doc['user_info'].get('role') == 'admin', doc
    delete(s, adm)
