"""POST /evaluate charges public callers one request per case, all or
none, before any case runs (rate limit and daily quota as /execute)."""
from helpers import err
from test_evaluate import evaluate, graded

CONFIG = {'rate_limit_per_minute': 5, 'daily_quota': 8}

CODE = 'def f(x):\n    return x\n'


def cases(n):
    return [{'args': [i], 'expected': i} for i in range(n)]


def test_public_charged_per_case(s):
    ip = '203.0.113.120'
    doc = graded(evaluate(s, {'code': CODE, 'entry_point': 'f',
                              'cases': cases(3)}, ip=ip, admin=False))
    assert doc['passed'], doc
    assert doc['user_info']['requests_today'] == 3, doc['user_info']
    assert doc['user_info']['requests_remaining_today'] == 5
    # 3 more would make 6 in the minute: refused whole, nothing charged
    st, d, h = evaluate(s, {'code': CODE, 'entry_point': 'f',
                            'cases': cases(3)}, ip=ip, admin=False)
    d = err((st, d, h), 429, 'RateLimitExceeded')
    assert 'per minute' in d['error_details']['message'], d
    assert d['user_info']['requests_today'] == 3, d
    assert int(h['retry-after']) >= 1
    # 2 fit exactly
    doc = graded(evaluate(s, {'code': CODE, 'entry_point': 'f',
                              'cases': cases(2)}, ip=ip, admin=False))
    assert doc['user_info']['requests_today'] == 5, doc['user_info']


def test_more_cases_than_the_limit(s):
    ip = '203.0.113.121'
    st, d, h = evaluate(s, {'code': CODE, 'entry_point': 'f',
                            'cases': cases(6)}, ip=ip, admin=False)
    d = err((st, d, h), 429, 'RateLimitExceeded')
    assert '6 cases' in d['error_details']['message'], d
    assert d['user_info']['requests_today'] == 0


def test_daily_quota_per_case(s):
    ip = '203.0.113.122'
    doc = graded(evaluate(s, {'code': CODE, 'entry_point': 'f',
                              'cases': cases(4)}, ip=ip, admin=False))
    assert doc['user_info']['requests_today'] == 4
    assert doc['user_info']['requests_remaining_today'] == 4


def test_invalid_and_admin_not_charged(s):
    ip = '203.0.113.123'
    st, d, h = evaluate(s, {'code': CODE, 'entry_point': 'f',
                            'io_cases': [{'input': 'x=', 'output': '1'}]},
                        ip=ip, admin=False)
    d = err((st, d, h), 400, 'ValidationError')
    assert d['user_info']['requests_today'] == 0, d
    doc = graded(evaluate(s, {'code': CODE, 'entry_point': 'f',
                              'cases': cases(7)}, ip=ip, admin=True))
    assert doc['user_info'] == {'role': 'admin',
                                'rate_limits_applied': False}, doc
    doc = graded(evaluate(s, {'code': CODE, 'entry_point': 'f',
                              'cases': cases(1)}, ip=ip, admin=False))
    assert doc['user_info']['requests_today'] == 1, doc


def test_bearer_key_and_wrong_key(s):
    """The caller's role is decided as for /execute: the admin key in the
    Authorization header counts, and a wrong key is refused (401) before
    anything is charged or run."""
    import json
    ip = '203.0.113.124'
    body = json.dumps({'code': CODE, 'entry_point': 'f',
                       'cases': cases(7)}).encode()
    h = {'Content-Type': 'application/json', 'X-Forwarded-For': ip,
         'Authorization': 'Bearer ' + s.admin_key}
    st, _, data = s.request('POST', '/evaluate', body, h)
    doc = json.loads(data)
    assert st == 200 and doc['passed'], doc
    assert doc['user_info'] == {'role': 'admin', 'rate_limits_applied': False}
    h['Authorization'] = 'Bearer wrong-key-0123456789abcdef'
    st, _, data = s.request('POST', '/evaluate', body, h)
    doc = json.loads(data)
    assert st == 401 and doc['status'] == 'error', (st, doc)
    st, d, _ = evaluate(s, {'code': CODE, 'entry_point': 'f',
                            'cases': cases(1)}, ip=ip, admin=False)
    assert d['user_info']['requests_today'] == 1, d
