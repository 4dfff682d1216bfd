"""max_queue_wait_ms (issue 17 item 5): with every slot busy a request
waits for one, first come first served across the workers, at most
max_queue_waiters at once, and gets 503 only at the end of its wait."""
import fcntl
import glob
import os
import struct
import threading
import time


CONFIG = {'max_concurrent': 1, 'time_limit_seconds': 60,
          'max_queue_wait_ms': 30000, 'max_queue_waiters': 3}
WORKERS = 7

HOLD = 'import time\nprint("hold", flush=True)\ntime.sleep(%.2f)\nprint("held")'
STAMP = 'import time\nprint("%.6f" % time.monotonic())'


def waiting(s):
    """Requests waiting now: queue files holding a ticket."""
    n = 0
    for path in glob.glob(os.path.join(s.config['runtime_dir'], 'queue.*')):
        with open(path, 'rb') as f:
            data = f.read(8)
        n += len(data) == 8 and struct.unpack('=Q', data)[0] != 0
    return n


def wait_for(pred, limit, what):
    t0 = time.time()
    while time.time() - t0 < limit:
        if pred():
            return
        time.sleep(0.05)
    raise AssertionError('timed out waiting for ' + what)


def slot_taken(s):
    """Someone holds slot.0 (max_concurrent is 1): asked with F_OFD_GETLK,
    as the workers ask, without taking it."""
    try:
        fd = os.open(os.path.join(s.config['runtime_dir'], 'slot.0'),
                     os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fl = struct.pack('hhqqi4x', fcntl.F_WRLCK, os.SEEK_SET, 0, 0, 0)
        fl = fcntl.fcntl(fd, fcntl.F_OFD_GETLK, fl)
    finally:
        os.close(fd)
    return struct.unpack('hhqqi4x', fl)[0] != fcntl.F_UNLCK


def hold(s, secs, results, key):
    """Starts the request that holds the one slot, and returns once it
    does. Otherwise a request sent just after it may reach a worker
    first, take the slot, and leave the holder waiting in its place (the
    waiter the test then counts as its own)."""
    def go():
        results[key] = s.execute({'code': HOLD % secs}, ip='192.0.2.1')
    t = threading.Thread(target=go)
    t.start()
    wait_for(lambda: slot_taken(s), 60, 'the holder in its slot')
    return t


def started(s, key, results, code, ip):
    def go():
        t0 = time.time()
        r = s.execute({'code': code}, ip=ip, timeout=120)
        results[key] = (r, time.time() - t0)
    t = threading.Thread(target=go)
    t.start()
    return t


def hold_time(s):
    # The harness serves as soon as one worker is up: every request below
    # needs a worker of its own, or it waits in the socket's backlog
    # instead of the waiting room.
    wait_for(lambda: s.ready_workers() >= 5, 240, 'five workers')
    # Long enough for three requests to reach their workers and queue on
    # a loaded machine, short enough that the last one's wait (this, plus
    # two runs) stays well inside max_queue_wait_ms (30 s).
    return 15.0


def test_waits_for_slot_in_order(s):
    results = {}
    h = hold_time(s)
    th = [hold(s, h, results, 'hold')]
    th.append(started(s, 'a', results, STAMP, '192.0.2.11'))
    wait_for(lambda: waiting(s) == 1, 30, 'a waiting')
    th.append(started(s, 'b', results, STAMP, '192.0.2.12'))
    wait_for(lambda: waiting(s) == 2, 30, 'b waiting')
    th.append(started(s, 'c', results, STAMP, '192.0.2.13'))
    wait_for(lambda: waiting(s) == 3, 30, 'c waiting')
    for t in th:
        t.join()
    assert results['hold'][0] == 200, results['hold']
    stamps = []
    for k in 'abc':
        (st, doc, _), took = results[k]
        assert st == 200, (k, st, doc)
        assert doc['user_info']['requests_today'] == 1, doc['user_info']
        stamps.append(float(doc['execution_details']['stdout']))
    # first come, first served
    assert stamps == sorted(stamps), stamps
    assert waiting(s) == 0


def test_waiting_room_is_bounded(s):
    results = {}
    h = hold_time(s)
    th = [hold(s, h, results, 'hold')]
    for i, k in enumerate('abc'):
        th.append(started(s, k, results, 'print(1)', '192.0.2.%d' % (21 + i)))
        wait_for(lambda: waiting(s) == i + 1, 30, '%s waiting' % k)
    t0 = time.time()
    st, doc, hdrs = s.execute({'code': 'print(1)'}, ip='192.0.2.29')
    took = time.time() - t0
    assert st == 503 and doc['error_details']['type'] == 'ServerBusy', doc
    assert hdrs['retry-after'] == '1'
    assert took < h, 'a full waiting room answers at once (%.2fs)' % took
    assert doc['user_info']['requests_today'] == 0
    for t in th:
        t.join()
    for k in 'abc':
        assert results[k][0][0] == 200, results[k]


def test_wait_ends_in_503_at_deadline(s):
    results = {}
    hold_time(s)
    th = [hold(s, 45, results, 'hold')]
    t0 = time.time()
    st, doc, hdrs = s.execute({'code': 'print(1)'}, ip='192.0.2.31',
                              timeout=120)
    took = time.time() - t0
    assert st == 503 and doc['error_details']['type'] == 'ServerBusy', doc
    # it waited its 30 s, not less, and was not charged
    assert took >= 29, took
    assert doc['user_info']['requests_today'] == 0
    for t in th:
        t.join()
    assert results['hold'][0] == 200
