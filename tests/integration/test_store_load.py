"""Counters shared by all workers: no lost updates under concurrency."""
import threading

CONFIG = {'max_concurrent': 64, 'rate_limit_per_minute': 100000, 'daily_quota': 100000}
WORKERS = 8


def test_500_concurrent_requests_no_lost_updates(s):
    ip = '192.0.2.200'
    statuses = []
    lock = threading.Lock()

    def worker(n):
        conn = s.connection()
        try:
            for _ in range(n):
                st, doc, _ = s.execute({'code': 'pass'}, ip=ip, conn=conn)
                with lock:
                    statuses.append(st)
        finally:
            conn.close()

    threads = [threading.Thread(target=worker, args=(25,)) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(statuses) == 500 and set(statuses) == {200}, \
        {c: statuses.count(c) for c in set(statuses)}
    st, doc, _ = s.execute({'code': 'pass'}, ip=ip)
    assert doc['user_info']['requests_today'] == 501, doc['user_info']
