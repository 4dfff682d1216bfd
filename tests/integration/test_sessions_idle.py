"""Reading a session's state or files is not a call (from the attack
review, test_review_session_idle): the README says a session ends after
session_idle_seconds without a call. The keeper's reply() set last_used
(and counted an execution) for every relayed operation, file listings
included, so uncharged reads kept a session alive up to
session_max_seconds. Reads are now done by the worker from the workspace
and never reach the interpreter."""
import time

from sess_helpers import call, create, cell, delete

CONFIG = {'session_idle_seconds': 6, 'rate_limit_per_minute': 1000,
          'daily_quota': 100000}
TIMEOUT = 120


def test_file_reads_do_not_keep_a_session_alive(s):
    sid = create(s)
    cell(s, sid, 'x = 1')
    t0 = time.monotonic()
    while time.monotonic() - t0 < 15:
        st, _, _ = call(s, 'GET', '/sessions/%s/files' % sid)
        if st != 200:
            break
        time.sleep(1.5)
    st, doc, _ = call(s, 'GET', '/sessions/' + sid)
    if st == 200:
        delete(s, sid)
    assert st == 404, ('alive %.0f s after its last call with '
                       'session_idle_seconds 6; executions %s'
                       % (time.monotonic() - t0, doc.get('executions')))


def test_reads_are_not_executions_writes_are(s):
    sid = create(s)
    try:
        cell(s, sid, 'open("/work/f", "w").write("abc")')
        for path in ('/files', '/files/f', '/files/f', '/files'):
            st, _, _ = s.request('GET', '/sessions/%s%s' % (sid, path))
            assert st == 200, (path, st)
        st, doc, _ = call(s, 'GET', '/sessions/' + sid)
        assert st == 200 and doc['executions'] == 1, doc
        # A write is made by the interpreter: a call (charged when public).
        st, _, raw = s.request('PUT', '/sessions/%s/files/g' % sid, b'x')
        assert st == 200, raw
        st, doc, _ = call(s, 'GET', '/sessions/' + sid)
        assert st == 200 and doc['executions'] == 2, doc
    finally:
        delete(s, sid)
