"""What a session sends back is bounded by the output caps, outside the
session's memory cap (from the attack review, test_review_session_amplify).

A cell in a session capped at 64 MiB writes a 60 MB reply frame on the
driver's reply channel in 1 MB pieces (the interpreter never holds it).
Before, the keeper and the worker (outside the session's cgroup) each held
it several times over, up to SESS_FRAME_MAX (64 MiB), and the client got a
60 MB `result` with max_output_bytes at 64 KiB. Now the keeper refuses a
frame above sess_reply_max() (3 x max_output_bytes + max_return_bytes +
64 KiB) without reading it, ending the session, and the worker checks the
same bound. An honest driver truncates to fit: `result` within
max_output_bytes (`result_truncated`), displays within max_return_bytes
(`display_truncated`), and the session lives on."""
import json

from escape_util import worker_pids

from sess_helpers import cell, create, run, delete

CONFIG = {'session_memory_mb': 64, 'max_output_bytes': 65536,
          'max_return_bytes': 1 << 20,
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


def test_a_long_result_is_truncated_and_the_session_lives(s):
    sid = create(s)
    try:
        d = cell(s, sid, "x = 'ab\\u00e9' * 100000\nx")
        assert d['session_alive'] is True and d['result_truncated'] is True, d
        r = d['result']
        # The cap is on JSON text, as sent: each \u00e9 is six bytes.
        n = len(json.dumps(r))
        assert 60000 < n <= 65536 and r.startswith("'ab\u00e9"), (n, r[:9])
        d = cell(s, sid, 'len(x)')
        assert d['result'] == '300000' and d['result_truncated'] is False, d
    finally:
        delete(s, sid)


def test_displays_past_max_return_bytes_are_dropped(s):
    sid = create(s)
    try:
        d = cell(s, sid, "class Big:\n"
                         "    def _repr_svg_(self):\n"
                         "        return '<svg>' + 'x' * 400000 + '</svg>'\n"
                         "for _ in range(5):\n"
                         "    display(Big())\n"
                         "display(1)")
        assert d['session_alive'] is True and d['error'] is None, d
        n = len(d['display'])
        assert 1 <= n <= 2 and d['display_truncated'] is True, (
            n, d['display_truncated'])
        d = cell(s, sid, 'display(2)')
        assert len(d['display']) == 1 and d['display_truncated'] is False, d
    finally:
        delete(s, sid)
