"""Forking a public session (issue 13): charged like creating a session
(per-minute limit and daily quota), counted against max_sessions_per_ip;
a refusal is not charged."""
from sess_helpers import call, run, delete

CONFIG = {'max_sessions': 6, 'max_sessions_per_ip': 2,
          'rate_limit_per_minute': 1000, 'daily_quota': 9}

IP = '198.51.100.120'


def _today(s, sid):
    st, doc, _ = run(s, sid, 'x', admin=False, ip=IP)
    assert st == 200, doc
    return doc['user_info']['requests_today']


def test_public_fork_is_charged_and_capped_per_address(s):
    made = []
    try:
        st, doc, _ = call(s, 'POST', '/sessions', {}, ip=IP)
        assert st == 201, doc
        a = doc['session_id']
        made.append(a)
        st, doc, _ = run(s, a, 'x = 1', admin=False, ip=IP)
        assert doc['user_info']['requests_today'] == 2, doc
        st, doc, _ = call(s, 'POST', '/sessions/%s/fork' % a, None, ip=IP)
        assert st == 201, doc
        c = doc['session_id']
        made.append(c)
        assert _today(s, c) == 4            # the fork, then this call
        # A third live session of this address: 429, not charged.
        st, doc, hdrs = call(s, 'POST', '/sessions/%s/fork' % a, None, ip=IP)
        assert st == 429 and doc['error_details']['type'] == \
            'RateLimitExceeded', doc
        assert 'retry-after' in hdrs
        assert _today(s, a) == 5
        # Released, the child makes room again.
        assert delete(s, c)[0] == 200
        st, doc, _ = call(s, 'POST', '/sessions/%s/fork' % a, None, ip=IP)
        assert st == 201, doc
        made.append(doc['session_id'])
        assert _today(s, doc['session_id']) == 7
        # The daily quota (9) holds for forks as for creations.
        assert _today(s, a) == 8
        assert delete(s, doc['session_id'])[0] == 200
        st, doc, _ = call(s, 'POST', '/sessions/%s/fork' % a, None, ip=IP)
        assert st == 201, doc
        made.append(doc['session_id'])
        st, doc, _ = call(s, 'POST', '/sessions/%s/fork' % a, None, ip=IP)
        assert st == 429, doc
    finally:
        for x in made:
            delete(s, x)
