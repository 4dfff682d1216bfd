"""A worker killed while it sends a reply must not cut it (issue 19's soak
found a 200 cut in the middle). A reply that fits the FastCGI connection's
send buffer leaves the worker in one write(2), the end-of-request record
included, so nginx gets all of it or none (then its documented 503). A
larger one is written by a child of the worker that outlives it. Watched
with strace on every worker of the stack (and, with -f, their children):
the writes that carry FastCGI records, and which process made them."""
import os
import re
import signal
import subprocess
import tempfile
import time

from helpers import ok
from procfs import traced

MODES = ('zygote',)     # the reply path is the same in both modes


def _workers(s):
    pids = set(int(p) for p in re.findall(r'\[(\d+)\]: worker ready',
                                          s.worker_log_text()))
    return sorted(p for p in pids if os.path.exists('/proc/%d' % p))


def _fcgi_writes(s, payload):
    """(result, count, bytes, writers) of the writes that carry FastCGI
    records (version 1; STDOUT or END_REQUEST first) while payload runs;
    writers: how many of them each worker made itself (the rest were
    made by other processes)."""
    workers = _workers(s)
    assert workers, 'no live worker of this stack'
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, 'trace')
        argv = ['strace', '-qq', '-f', '-xx', '-s', '2', '-e',
                'trace=write,writev,sendmsg,sendto', '-e', 'signal=none',
                '-o', out]
        for p in workers:
            argv += ['-p', str(p)]
        tr = subprocess.Popen(argv, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 60
            while not all(traced(p) for p in workers):
                assert time.monotonic() < deadline, 'strace did not attach'
                time.sleep(0.05)
            res = s.execute(payload, timeout=120)
        finally:
            tr.send_signal(signal.SIGINT)
            tr.wait(timeout=60)
        with open(out) as f:
            text = f.read()
    found = re.findall(r'^(\d+) +(?:(?:write|sendto|sendmsg)\(\d+, |'
                       r'writev\(\d+, \[\{iov_base=)"\\x01\\x0[36]".*'
                       r'\)\s+=\s+(\d+)$', text, re.M)
    n = [int(x) for _, x in found]
    own = sum(1 for pid, _ in found if int(pid) in workers)
    return res, len(n), sum(n), own


def test_small_reply_is_one_write(s):
    size = 100000
    res, count, nbytes, own = _fcgi_writes(s, {
        'code': 'import sys\nsys.stdout.write("x" * %d)\n' % size,
        'api_key': s.admin_key})
    ed = ok(res)
    assert ed['stdout'] == 'x' * size, len(ed['stdout'])
    assert count == 1, 'reply of %d bytes left in %d writes' % (nbytes, count)
    assert own == 1 and nbytes > size, (own, nbytes)


def test_large_reply_written_by_a_child(s):
    size = 900000
    res, count, nbytes, own = _fcgi_writes(s, {
        'code': 'import sys\nsys.stdout.write("y" * %d)\n' % size,
        'api_key': s.admin_key})
    ed = ok(res)
    assert ed['stdout'] == 'y' * size, len(ed['stdout'])
    assert count >= 1 and nbytes > size, (count, nbytes)
    assert own == 0, '%d of %d writes by the worker itself' % (own, count)
