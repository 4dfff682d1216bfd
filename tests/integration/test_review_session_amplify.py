"""Review of sessions (issue 11): what a session sends back is bounded
only by SESS_FRAME_MAX (64 MiB), not by max_output_bytes or the session's
memory cap. A cell in a session capped at 64 MiB writes a 60 MB reply
frame on the driver's reply channel in 1 MB pieces (the interpreter never
holds it), and the keeper and the worker, outside the session's cgroup,
each hold it several times over; the client gets a 60 MB `result`
although max_output_bytes is 64 KiB. Fails while this holds."""
from escape_util import worker_pids

from sess_helpers import create, run, delete

CONFIG = {'session_memory_mb': 64, 'max_output_bytes': 65536,
          'rate_limit_per_minute': 1000, 'daily_quota': 100000}
TIMEOUT = 240

N = 60 << 20
FORGE = r'''
import os, stat, sys, time
N = %d
head = b'{"result": "'
tail = b'"}'
fds = []
for fd in range(3, 64):
    try:
        st = os.fstat(fd)
    except OSError:
        continue
    if stat.S_ISFIFO(st.st_mode) and os.get_blocking(fd) is not None:
        fds.append(fd)
chunk = b'x' * (1 << 20)
for fd in fds:
    try:
        os.write(fd, (N).to_bytes(4, sys.byteorder) + head)
    except OSError:
        continue
    left = N - len(head) - len(tail)
    while left > 0:
        n = os.write(fd, chunk[:min(left, len(chunk))])
        left -= n
    os.write(fd, tail)
    break
time.sleep(60)
''' % N


def _hwm(pid):
    try:
        with open('/proc/%d/status' % pid) as f:
            for line in f:
                if line.startswith('VmHWM:'):
                    return int(line.split()[1]) << 10
    except OSError:
        pass
    return 0


def _reset(pid):
    try:
        with open('/proc/%d/clear_refs' % pid, 'w') as f:
            f.write('5')
    except OSError:
        pass


def test_session_reply_is_bounded_outside_the_session(s):
    sid = create(s)
    procs = set(worker_pids(s)) | set(s._keepers())
    for p in procs:
        _reset(p)
    base = {p: _hwm(p) for p in procs}
    st, doc, _ = run(s, sid, FORGE)
    grew = sorted(((_hwm(p) - base[p]) >> 20 for p in procs if p in base),
                  reverse=True)
    delete(s, sid)
    result = (doc.get('execution_details') or {}).get('result') \
        if isinstance(doc, dict) else None
    rlen = len(result or '')
    assert rlen <= 65536 and grew[0] < 64, (
        'status %s, result of %d bytes (max_output_bytes 65536); peak RSS '
        'growth outside the 64 MiB session, MiB per process: %s'
        % (st, rlen, grew[:4]))
