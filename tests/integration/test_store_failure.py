"""A broken counter store fails closed: 503 for public callers, never a crash."""
import os
import glob

CONFIG = {'rate_limit_per_minute': 50, 'daily_quota': 50, 'state_dir_marker': None}
CONFIG.pop('state_dir_marker')
CONFIG['max_return_files'] = 9   # a distinct CONFIG, so this module gets its own stack


def test_store_failure_is_503(s):
    assert s.execute({'code': 'pass'}, ip='192.0.2.1')[0] == 200
    db = os.path.join(s.base, 'state', 'ratelimit.sqlite')
    assert os.path.exists(db)
    for f in glob.glob(db + '*'):
        with open(f, 'r+b') as fh:
            size = max(os.path.getsize(f), 4096)
            fh.write(b'\xde\xad' * (size // 2))
    st, doc, hdrs = s.execute({'code': 'pass'}, ip='192.0.2.1')
    assert st == 503, (st, doc)
    assert doc['error_details']['type'] == 'ServiceUnavailable'
    assert hdrs.get('retry-after') == '5', hdrs    # a documented refusal
    assert 'execution_details' not in doc
    assert 'rate-limit store' in s.worker_log_text()
    # admins do not depend on the store
    st, doc, _ = s.execute({'code': 'print(2)', 'api_key': s.admin_key})
    assert st == 200 and doc['execution_details']['stdout'] == '2\n'
    # and the workers are still alive: health check answers
    assert s.request('GET', '/healthz')[0] == 200
