"""Issue 10, item 1: JSON parse-tree amplification.

json-c builds the whole tree before a field is checked, and a value costs
it far more memory than its spelling ("{}" is 3 bytes and a hash table).
Bodies that a valid request could never be must be refused by counting,
before any tree is built; and a large valid request must not leave its
peak behind in the worker.
"""
import base64
import os
import time

from escape_util import worker_pids


def _kib(pid, key):
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            if line.startswith(key + ':'):
                return int(line.split()[1])
    return 0


def _reset_peaks(pids):
    # "5" resets VmHWM, the peak resident set (proc(5), clear_refs).
    for p in pids:
        with open('/proc/%d/clear_refs' % p, 'w') as f:
            f.write('5')


BOMBS = [
    ('1 MB of {}', b'{"code":"1","x":[' + b'{},' * 350000 + b'{}]}'),
    ('2 MB of []', b'{"code":"1","x":[' + b'[],' * 700000 + b'[]]}'),
    ('2 MB of numbers', b'{"code":"1","x":[' + b'0,' * 1000000 + b'0]}'),
    ('2 MB of strings', b'{"code":"1","x":[' + b'"",' * 700000 + b'""]}'),
    ('2 MB of members', b'{' + b''.join(b'"k%d":0,' % i
                                        for i in range(220000)) +
     b'"code":"1"}'),
]

# The worker's peak may grow by a small multiple of the body it read, not
# by a hundredfold (before the fix: 1 MB of {} took a worker to 268 MB).
PEAK_MIB = 48


def test_json_bombs_refused_with_bounded_memory(s):
    pids = sorted(worker_pids(s))
    assert pids
    for name, body in BOMBS:
        _reset_peaks(pids)
        t0 = time.monotonic()
        st, doc, _ = s.execute(None, raw=body, timeout=120)
        took = time.monotonic() - t0
        assert st == 400 and doc and \
            doc['error_details']['type'] == 'ValidationError', (name, st, doc)
        peak = max(_kib(p, 'VmHWM') for p in pids) // 1024
        assert peak <= PEAK_MIB, \
            '%s (%d bytes): a worker peaked at %d MiB' % (name, len(body),
                                                         peak)
        assert took < 30, '%s took %.1f s' % (name, took)


def test_large_valid_request_leaves_no_memory_behind(s):
    pids = sorted(worker_pids(s))
    data = base64.b64encode(os.urandom(8 * 1024 * 1024 - 16)).decode()
    st, doc, _ = s.execute({'code': 'print(1)', 'attachments': [
        {'filename': 'a', 'content_base_64': data},
        {'filename': 'b', 'content_base_64': data}]}, timeout=120)
    assert st == 200, (st, doc)
    # The 23 MB body, json-c's copies and the decoded files are gone.
    rss = {p: _kib(p, 'VmRSS') // 1024 for p in pids}
    assert max(rss.values()) <= 12, 'worker resident MiB after: %r' % rss
