"""Issue 10, item 3: request data cannot forge log lines.

The worker logs one line per request with the decoded path. A %0a in the
path decodes to a newline: written as it is, the rest of the path becomes a
log line of its own, which journald would even read at priority <0>.
"""
import time

MARK = 'pyexec-forged-%d' % int(time.time() * 1000)


def test_control_bytes_in_path_are_escaped(s):
    path = '/execute%0a<0>' + MARK + '%0d%1b[2J%7f'
    st, _, _ = s.request('GET', path)
    assert st == 404, st
    deadline = time.time() + 10
    while MARK not in s.worker_log_text() and time.time() < deadline:
        time.sleep(0.1)
    lines = [l for l in s.worker_log_text().splitlines() if MARK in l]
    assert lines, 'the request was not logged'
    for l in lines:
        assert l.startswith('<6>pyexec['), 'forged log line: %r' % l
        assert '\\x0a<0>' + MARK + '\\x0d\\x1b[2J\\x7f' in l, l
