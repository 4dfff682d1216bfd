"""The daily quota, per IP and calendar day (UTC)."""
from helpers import err

CONFIG = {'rate_limit_per_minute': 1000, 'daily_quota': 6}


def test_daily_quota(s):
    ip = '198.51.100.5'
    for i in range(6):
        st, doc, _ = s.execute({'code': 'pass'}, ip=ip)
        assert st == 200 and doc['user_info']['requests_remaining_today'] == 5 - i
    st, doc, hdrs = s.execute({'code': 'pass'}, ip=ip)
    doc = err((st, doc, hdrs), 429, 'RateLimitExceeded')
    assert 'Daily quota of 6' in doc['error_details']['message']
    assert 0 < int(hdrs['retry-after']) <= 86400
    assert doc['user_info']['requests_remaining_today'] == 0
    # another address is unaffected
    assert s.execute({'code': 'pass'}, ip='198.51.100.6')[0] == 200
    # admins are never limited
    assert s.execute({'code': 'pass', 'api_key': s.admin_key}, ip=ip)[0] == 200


def test_syntax_errors_count(s):
    # A request that reaches the sandbox costs a run, so it is charged.
    ip = '198.51.100.7'
    st, doc, _ = s.execute({'code': 'def ('}, ip=ip)
    assert st == 400 and doc['user_info']['requests_today'] == 1
