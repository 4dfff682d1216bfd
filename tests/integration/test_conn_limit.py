"""Issue 10, item 11: nginx limits requests in progress per address.

With limit_conn 2, a third concurrent request from one address is refused
by nginx with a JSON 429 before it reaches a worker; another address is
not affected.
"""
import json
import threading

MODES = ('zygote',)
CONN_LIMIT = 2
WORKERS = 6
CONFIG = {'max_concurrent': 6}


def test_third_concurrent_request_refused(s):
    results = []

    def slow(ip):
        results.append(s.execute({'code': 'import time; time.sleep(3)',
                                  'api_key': s.admin_key}, ip=ip)[0])

    threads = [threading.Thread(target=slow, args=('192.0.2.90',))
               for _ in range(2)]
    for t in threads:
        t.start()
    # Wait until both are in a worker (a run started for each).
    import time
    deadline = time.time() + 30
    while time.time() < deadline:
        st, doc, hdrs = s.execute({'code': 'print(1)',
                                   'api_key': s.admin_key}, ip='192.0.2.91')
        assert st == 200, (st, doc)
        if doc['server_status']['active_processes_at_request'] >= 3:
            break
        time.sleep(0.1)
    st, hdrs, body = s.request('POST', '/execute', json.dumps(
        {'code': 'print(1)', 'api_key': s.admin_key}).encode(),
        {'Content-Type': 'application/json', 'X-Forwarded-For': '192.0.2.90'})
    assert st == 429, (st, body)
    assert hdrs['content-type'] == 'application/json', hdrs
    assert json.loads(body)['error_details']['type'] == 'RateLimitExceeded'
    for t in threads:
        t.join()
    assert results == [200, 200], results
