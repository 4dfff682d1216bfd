"""nginx's coarse per-IP flood limit answers 429 in JSON before any worker."""
import json

MODES = ('zygote',)
FLOOD_RATE = 1          # the runner gives this stack rate=1r/s, burst=2


def test_flood_limit_is_json_429(s):
    statuses = []
    for _ in range(12):
        st, hdrs, body = s.request('GET', '/healthz',
                                   headers={'X-Forwarded-For': '192.0.2.250'})
        statuses.append(st)
        if st == 429:
            doc = json.loads(body)
            assert doc['status'] == 'error', doc
            assert doc['error_details']['type'] == 'RateLimitExceeded', doc
            assert hdrs['content-type'] == 'application/json', hdrs
            assert hdrs['retry-after'] == '1', hdrs
    assert statuses[0] == 200 and statuses.count(429) >= 5, statuses
    # the limit is per address: another client is unaffected
    st, _, _ = s.request('GET', '/healthz', headers={'X-Forwarded-For': '192.0.2.251'})
    assert st == 200
