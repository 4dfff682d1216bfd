"""A reply that fits the FastCGI connection's send buffer leaves the worker
in one write(2), the end-of-request record included, so a worker killed
at any moment leaves nginx the whole reply or none of it (then nginx's
documented 503), never a 200 cut in the middle (issue 19's soak found one).
Watched with strace on every worker of the stack: the FastCGI records a
worker writes for one reply of ~100 KB (more than libfcgi's 8 KiB stream
buffer, which used to send it in many writes) are counted."""
import os
import re
import signal
import subprocess
import tempfile
import time

from helpers import ok

MODES = ('zygote',)     # the reply path is the same in both modes


def _workers(s):
    pids = set(int(p) for p in re.findall(r'\[(\d+)\]: worker ready',
                                          s.worker_log_text()))
    return sorted(p for p in pids if os.path.exists('/proc/%d' % p))


def _traced(pid):
    try:
        with open('/proc/%d/status' % pid) as f:
            return int(re.search(r'^TracerPid:\t(\d+)', f.read(),
                                 re.M).group(1)) != 0
    except OSError:
        return True     # gone: nothing to wait for


def _fcgi_writes(s, payload):
    """(count, bytes) of the writes that carry FastCGI records
    (version 1; STDOUT or END_REQUEST first) while payload runs."""
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
            while not all(_traced(p) for p in workers):
                assert time.monotonic() < deadline, 'strace did not attach'
                time.sleep(0.05)
            res = s.execute(payload, timeout=120)
        finally:
            tr.send_signal(signal.SIGINT)
            tr.wait(timeout=60)
        with open(out) as f:
            text = f.read()
    calls = re.findall(r'(?:write|sendto|sendmsg)\(\d+, "\\x01\\x0[36]".*'
                       r'\)\s+=\s+(\d+)', text)
    vec = re.findall(r'writev\(\d+, \[\{iov_base="\\x01\\x0[36]".*'
                     r'\)\s+=\s+(\d+)', text)
    n = [int(x) for x in calls + vec]
    return res, len(n), sum(n)


def test_small_reply_is_one_write(s):
    size = 100000
    res, count, nbytes = _fcgi_writes(s, {
        'code': 'import sys\nsys.stdout.write("x" * %d)\n' % size,
        'api_key': s.admin_key})
    ed = ok(res)
    assert ed['stdout'] == 'x' * size, len(ed['stdout'])
    assert count == 1, 'reply of %d bytes left in %d writes' % (nbytes, count)
    assert nbytes > size, nbytes


def test_large_reply_still_whole(s):
    # Past the atomic size the reply is streamed as before, and whole.
    size = 900000
    ed = ok(s.execute({'code': 'import sys\nsys.stdout.write("y" * %d)\n'
                       % size, 'api_key': s.admin_key,
                       }, timeout=120))
    assert ed['stdout'] == 'y' * size, len(ed['stdout'])
