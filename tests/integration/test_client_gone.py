"""A client that disconnects ends its run at once (issue 17 item 4): nginx
closes the FastCGI connection, the worker kills the jail and frees the
slot, long before the run's own time limit."""
import json
import time

from escape_util import describe_pids, jail_pids

# One slot: while the abandoned run holds it, every other request is busy.
CONFIG = {'max_concurrent': 1, 'time_limit_seconds': 60}
WORKERS = 3

FORK_BOMB = '''
import os, time
for i in range(8):
    try:
        if os.fork() == 0:
            while True:
                time.sleep(1)
    except OSError:
        break
while True:
    time.sleep(1)
'''


def wait_status(s, want, limit):
    """Polls with a trivial run until it answers want; seconds it took."""
    t0 = time.time()
    while time.time() - t0 < limit:
        st, doc, _ = s.execute({'code': 'print(1)'}, ip='192.0.2.77')
        if st == want:
            return time.time() - t0, doc
        time.sleep(0.2)
    raise AssertionError('no %d within %.0f s' % (want, limit))


def runs_by_termination(s, name):
    st, _, body = s.request('GET', '/metrics')
    assert st == 200
    for line in body.decode().splitlines():
        if line.startswith('pyexec_runs_total{termination="%s"}' % name):
            return int(line.split()[-1])
    return 0


def test_disconnect_kills_run_and_frees_slot(s):
    before = runs_by_termination(s, 'client_gone')
    conn = s.connection(timeout=120)
    body = json.dumps({'code': FORK_BOMB, 'api_key': s.admin_key}).encode()
    conn.request('POST', '/execute', body=body,
                 headers={'Content-Type': 'application/json'})
    # The slot is taken once the abandoned run is in flight.
    wait_status(s, 503, 30)
    conn.close()                 # the client goes away
    t0 = time.time()
    took, doc = wait_status(s, 200, 45)
    # Far below the run's own 60 s limit.
    assert took < 40, took
    assert doc['execution_details']['stdout'] == '1\n'
    # and nothing of the abandoned run is left
    deadline = time.time() + 10
    while jail_pids(s) and time.time() < deadline:
        time.sleep(0.2)
    assert not jail_pids(s), describe_pids(jail_pids(s))
    assert runs_by_termination(s, 'client_gone') == before + 1
    assert time.time() - t0 < 55


def test_connected_client_still_served(s):
    # A client that waits gets its answer: nothing else counts as gone.
    st, doc, _ = s.execute({'code': 'import time\ntime.sleep(1.5)\nprint("x")',
                            'api_key': s.admin_key})
    assert st == 200 and doc['execution_details']['stdout'] == 'x\n', doc
    assert doc['execution_details']['termination'] == 'exited'


def test_disconnect_stops_evaluate(s):
    # /evaluate: the running case is killed and no further case starts.
    # Three cases of 60 s each on the one slot would hold it for minutes.
    before = runs_by_termination(s, 'client_gone')
    conn = s.connection(timeout=120)
    body = json.dumps({'code': 'import time\ntime.sleep(100)',
                       'cases': [{'stdin': '', 'expected_stdout': ''}] * 3,
                       'api_key': s.admin_key}).encode()
    conn.request('POST', '/evaluate', body=body,
                 headers={'Content-Type': 'application/json'})
    wait_status(s, 503, 30)
    conn.close()
    took, doc = wait_status(s, 200, 45)
    assert took < 40, took
    deadline = time.time() + 10
    while jail_pids(s) and time.time() < deadline:
        time.sleep(0.2)
    assert not jail_pids(s), describe_pids(jail_pids(s))
    # one case was running, and it alone was stopped
    assert runs_by_termination(s, 'client_gone') == before + 1
