"""Review of sessions (issue 11): the README says a session ends after
session_idle_seconds without a call, and that reading its state or files
is not a call. The keeper's reply() sets last_used (and counts an
execution) for every relayed operation, file listings included, so
uncharged file reads keep a session alive up to session_max_seconds.
Fails while a file listing counts as a call."""
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
