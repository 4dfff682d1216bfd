"""No code of a session runs uncharged (from the attack review,
test_review_session_quota). File routes used to be served by the
session's own interpreter, which the user's code can rewrite: a public
cell replaces json.loads (an allowed import, used by the driver for every
request), and every uncharged GET /sessions/{id}/files then ran the
user's code (here: it counts itself and sleeps), even after the daily
quota was used up. Now reads (the listing, GET of a file) are done by the
worker from the workspace and run nothing of the session; writes (PUT,
DELETE, move) are still made by the session's interpreter, so they are
charged like a call: after the quota, 429, and the driver never runs."""
from sess_helpers import call, cell, create, delete, run

CONFIG = {'max_sessions': 4, 'max_sessions_per_ip': 2,
          'rate_limit_per_minute': 1000, 'daily_quota': 2}
IP = '198.51.100.141'

PATCH = '''import json, time
open('/work/ran', 'w').write('0')
_loads = json.loads
RAN = [0]
def _mine(b, _l=_loads, _r=RAN):
    _r[0] += 1
    with open('/work/ran', 'w') as f:
        f.write(str(_r[0] - 1))
    time.sleep(0.5)      # any code, up to the time limit
    return _l(b)
json.loads = _mine
'''


def test_uncharged_file_routes_run_no_user_code(s):
    st, doc, _ = call(s, 'POST', '/sessions', {}, ip=IP)     # charge 1
    assert st == 201, doc
    sid = doc['session_id']
    st, doc, _ = run(s, sid, PATCH, admin=False, ip=IP)       # charge 2
    assert st == 200 and doc['execution_details']['error'] is None, doc
    # The quota is used up: a cell is refused.
    st, doc, _ = run(s, sid, 'RAN[0]', admin=False, ip=IP)
    assert st == 429, doc
    for _ in range(5):
        st, doc, _ = call(s, 'GET', '/sessions/%s/files' % sid, ip=IP)
        assert st == 200, doc
    # Writes run in the session: charged, so refused after the quota.
    st, _, raw = s.request('PUT', '/sessions/%s/files/x' % sid, b'x',
                           {'X-Forwarded-For': IP})
    assert st == 429, (st, raw)
    st, doc, _ = call(s, 'DELETE', '/sessions/%s/files/ran' % sid, ip=IP)
    assert st == 429, doc
    # Read the count back through the uncharged file route itself.
    st, _, raw = s.request('GET', '/sessions/%s/files/ran' % sid, None,
                           {'X-Forwarded-For': IP})
    call(s, 'DELETE', '/sessions/' + sid)
    assert st == 200, (st, raw)
    ran = int(raw)
    assert ran == 0, ('user code ran %s times on uncharged routes after the '
                      'daily quota was used up' % ran)


def test_reads_are_the_workers_own_and_unprivileged(s):
    """The worker reads as its own uid: a file the session made private
    (per-slot uids: another host uid) is a clear 400, never read with
    privilege; the listing still shows it, and a FIFO is no file."""
    sid = create(s)
    try:
        cell(s, sid, 'import os\n'
             'open("/work/open.txt", "w").write("hello")\n'
             'open("/work/private.txt", "w").write("secret")\n'
             'os.chmod("/work/private.txt", 0o600)\n'
             'os.mkfifo("/work/pipe")')
        st, _, raw = s.request('GET', '/sessions/%s/files/open.txt' % sid)
        assert st == 200 and raw == b'hello', (st, raw)
        st, doc, _ = call(s, 'GET', '/sessions/%s/files' % sid)
        assert st == 200, doc
        names = {f['path']: f for f in doc['files']}
        assert names['private.txt']['size_bytes'] == 6, doc
        assert 'pipe' not in names, doc
        st, doc, _ = call(s, 'GET', '/sessions/%s/files/private.txt' % sid)
        if s.config.get('run_uids', 'per-slot') == 'per-slot':
            assert st == 400 and 'permissions' in \
                doc['error_details']['message'], (st, doc)
        else:
            assert st in (200, 400), (st, doc)
    finally:
        delete(s, sid)
