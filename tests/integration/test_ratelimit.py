"""Per-IP rate limit (seed policy: 5 a minute), identity via realip, admin."""
import socket
import ssl
import time
import http.client
import json

from helpers import ok, err

CONFIG = {'rate_limit_per_minute': 5, 'daily_quota': 30}


def test_per_minute_limit_and_fields(s):
    ip = '203.0.113.10'
    for i in range(5):
        st, doc, _ = s.execute({'code': 'print(1)'}, ip=ip)
        assert st == 200, doc
        assert doc['user_info'] == {'ip_address': ip, 'daily_quota_limit': 30,
                                    'requests_today': i + 1,
                                    'requests_remaining_today': 29 - i}, doc['user_info']
        ss = doc['server_status']
        assert ss['max_concurrent_processes'] == 5 and ss['active_processes_at_request'] >= 1
        assert ss['load'] == 'normal'
    st, doc, hdrs = s.execute({'code': 'print(1)'}, ip=ip)
    doc = err((st, doc, hdrs), 429, 'RateLimitExceeded')
    assert 'per minute' in doc['error_details']['message'], doc
    assert 1 <= int(hdrs['retry-after']) <= 60, hdrs
    assert doc['user_info']['requests_today'] == 5, 'refused request was charged'


def test_ips_are_isolated(s):
    for i in range(5):
        assert s.execute({'code': 'pass'}, ip='203.0.113.20')[0] == 200
    assert s.execute({'code': 'pass'}, ip='203.0.113.20')[0] == 429
    st, doc, _ = s.execute({'code': 'pass'}, ip='203.0.113.21')
    assert st == 200 and doc['user_info']['requests_today'] == 1


def test_invalid_requests_not_charged(s):
    ip = '203.0.113.30'
    for _ in range(8):
        st, doc, _ = s.execute({'code': 1}, ip=ip)
        assert st == 400 and doc['error_details']['type'] == 'ValidationError'
        assert doc['user_info']['requests_today'] == 0, doc
    st, doc, _ = s.execute({'code': 'pass'}, ip=ip)
    assert st == 200 and doc['user_info']['requests_today'] == 1


def test_admin_bypasses_limits(s):
    ip = '203.0.113.40'
    for _ in range(7):
        st, doc, _ = s.execute({'code': 'pass', 'api_key': s.admin_key}, ip=ip)
        assert st == 200, doc
        assert doc['user_info'] == {'role': 'admin', 'rate_limits_applied': False}
    # and none of it was charged to the address
    st, doc, _ = s.execute({'code': 'pass'}, ip=ip)
    assert doc['user_info']['requests_today'] == 1, doc


def test_wrong_key_is_refused_and_not_charged(s):
    # A wrong key is 401 (not a silent public caller), and costs nothing.
    ip = '203.0.113.50'
    bad = s.admin_key[:-2] + 'zz'
    codes = [s.execute({'code': 'pass', 'api_key': bad}, ip=ip)[0] for _ in range(6)]
    assert codes == [401] * 6, codes
    codes = [s.execute({'code': 'pass'}, ip=ip)[0] for _ in range(6)]
    assert codes == [200] * 5 + [429], codes


def _from_source(s, source_ip, xff):
    """A request whose TCP source is source_ip (not a trusted proxy)."""
    ctx = ssl.create_default_context(cafile=s.cert)
    conn = http.client.HTTPSConnection(s.host, s.port, context=ctx, timeout=30,
                                       source_address=(source_ip, 0))
    try:
        conn.request('POST', '/execute', body=json.dumps({'code': 'pass'}),
                     headers={'Content-Type': 'application/json',
                              'X-Forwarded-For': xff})
        r = conn.getresponse()
        return r.status, json.loads(r.read())
    finally:
        conn.close()


def test_spoofed_forwarded_for_ignored(s):
    # 127.0.0.2 is not a trusted proxy (only 127.0.0.1 is, in the dev
    # config): its X-Forwarded-For must be ignored, so rotating the header
    # does not escape the limit.
    seen = []
    for i in range(6):
        st, doc = _from_source(s, '127.0.0.2', '198.51.100.%d' % i)
        seen.append(st)
        assert doc['user_info']['ip_address'] == '127.0.0.2', doc['user_info']
    assert seen == [200] * 5 + [429], seen


def test_trusted_proxy_chain(s):
    # From the trusted proxy, the last untrusted address of the chain counts.
    st, doc, _ = s.execute({'code': 'pass'}, ip='192.0.2.77, 127.0.0.1')
    assert doc['user_info']['ip_address'] == '192.0.2.77', doc['user_info']


def test_minute_window_frees(s):
    ip = '203.0.113.60'
    for _ in range(5):
        assert s.execute({'code': 'pass'}, ip=ip)[0] == 200
    st, doc, hdrs = s.execute({'code': 'pass'}, ip=ip)
    assert st == 429
    wait = int(hdrs['retry-after'])
    time.sleep(wait + 1)
    st, doc, _ = s.execute({'code': 'pass'}, ip=ip)
    assert st == 200, (wait, doc)
    assert doc['user_info']['requests_today'] == 6


def test_admin_key_not_in_logs(s):
    s.execute({'code': 'pass', 'api_key': s.admin_key})
    s.execute({'code': 'pass', 'api_key': s.admin_key + 'x'})
    logs = s.worker_log_text()
    import glob
    for f in glob.glob(s.base + '/nginx-*.log'):
        logs += open(f, errors='replace').read()
    assert s.admin_key not in logs
