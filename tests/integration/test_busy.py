"""max_concurrent across all workers: the next request gets 503 at once."""
import threading
import time

# A far deadline: the slow runs below hold their slots for a time scaled to
# this machine's speed.
CONFIG = {'max_concurrent': 2, 'time_limit_seconds': 60}
WORKERS = 6


def test_busy_503_and_others_succeed(s):
    results = {}
    cost = s.run_cost()
    hold = max(3.0, 30 * cost)     # the two runs hold both slots this long
    code = 'import time\ntime.sleep(%.2f)\nprint("done")' % hold

    def run(name, delay):
        time.sleep(delay)
        results[name] = s.execute({'code': code},
                                  ip='192.0.2.%d' % (10 + len(name)))

    threads = [threading.Thread(target=run, args=('a', 0)),
               threading.Thread(target=run, args=('bb', 0.1))]
    for t in threads:
        t.start()
    time.sleep(0.8 + 5 * cost)  # both slow runs are now in flight
    t0 = time.time()
    st, doc, hdrs = s.execute({'code': 'print(1)'}, ip='192.0.2.99')
    elapsed = time.time() - t0
    for t in threads:
        t.join()
    assert st == 503, (st, doc)
    assert doc['error_details']['type'] == 'ServerBusy'
    assert hdrs['retry-after'] == '1'
    # Far less than the runs' hold: a queued answer would wait for it.
    assert elapsed < max(1.0, 5 * cost), \
        'a busy answer must not queue (%.2fs)' % elapsed
    assert doc['server_status'] == {'load': 'high', 'active_processes_at_request': 2,
                                    'max_concurrent_processes': 2}, doc['server_status']
    assert doc['user_info']['requests_today'] == 0, 'a busy refusal must not be charged'
    for name, (st2, d2, _) in results.items():
        assert st2 == 200 and d2['execution_details']['stdout'] == 'done\n', d2
    # and once they are done, a new request runs
    st, doc, _ = s.execute({'code': 'print(1)'}, ip='192.0.2.99')
    assert st == 200 and doc['server_status']['active_processes_at_request'] == 1
