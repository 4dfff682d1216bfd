"""A public request whose code never started, because the zygote died
while it started the run, answers 503 SandboxUnavailable ("the code was not
run", retry) and is not charged: the client, told to retry, must not pay
twice (issue 19's soak found the store one request above the answers)."""
import os
import re
import signal
import threading
import time

from helpers import err
from procfs import stat_or_none

MODES = ('zygote',)
# No pre-built jails: a worker building one when the zygotes are stopped
# would get a new zygote once they are killed and serve the request with
# it (and a request that finds one built needs no zygote to start).
CONFIG = {'rate_limit_per_minute': 1000, 'daily_quota': 50,
          'prebuilt_jails': 0}


def _zygotes(s):
    out = []
    for pid in set(re.findall(r'zygote (\d+) ready', s.worker_log_text())):
        try:
            with open('/proc/%s/cmdline' % pid, 'rb') as f:
                if f.read().startswith(b'pyexec-zygote'):
                    out.append(int(pid))
        except OSError:
            pass
    return out


def _warm_all_workers(s):
    """Every worker has a live zygote: as many concurrent runs as workers
    (a worker serves one at a time), so a zygote killed by an earlier test
    has been replaced everywhere."""
    res = []
    ts = [threading.Thread(target=lambda: res.append(s.execute(
        {'code': 'import time\ntime.sleep(1)', 'api_key': s.admin_key},
        timeout=120))) for _ in range(s.workers)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(120)
    assert [r[0] for r in res] == [200] * s.workers, res


def _stopped(pid):
    st = stat_or_none(pid)
    return st is None or st.state == 'T'


def _zygotes_die_while_starting(s, ip, send):
    """Charges one request of ip, warms every worker, stops every zygote,
    runs send() (admitted and charged, then waiting for a stopped zygote),
    kills the zygotes: a zygote dying while it starts the run. Returns
    what send() returned."""
    st, doc, _ = s.execute({'code': 'print(1)'}, ip=ip)
    assert st == 200 and doc['user_info']['requests_today'] == 1, doc
    _warm_all_workers(s)
    zygs = _zygotes(s)
    assert zygs, 'no live zygote'
    for z in zygs:
        os.kill(z, signal.SIGSTOP)
    res = {}
    try:
        deadline = time.monotonic() + 30
        while not all(_stopped(z) for z in zygs):
            assert time.monotonic() < deadline
            time.sleep(0.02)
        t = threading.Thread(target=lambda: res.update(r=send()))
        t.start()
        time.sleep(3)
    finally:
        for z in zygs:
            try:
                os.kill(z, signal.SIGKILL)
            except ProcessLookupError:
                pass
    t.join(120)
    return res['r']


def _run_when_ready(s, ip):
    """A run once the zygotes are back: a worker whose zygote is still
    restarting answers SandboxUnavailable (itself refunded, so the count
    asserted after it is unchanged by the retries)."""
    deadline = time.monotonic() + s.slack(60, 10)
    while True:
        st, doc, _ = s.execute({'code': 'print(3)'}, ip=ip, timeout=120)
        etype = ((doc or {}).get('error_details') or {}).get('type')
        if st != 503 or etype != 'SandboxUnavailable' or \
                time.monotonic() > deadline:
            return st, doc
        time.sleep(0.5)


def test_sandbox_unavailable_is_not_charged(s):
    ip = '198.51.100.77'
    r = _zygotes_die_while_starting(s, ip, lambda: s.execute(
        {'code': 'print(2)'}, ip=ip, timeout=120))
    doc = err(r, 503, 'SandboxUnavailable')
    assert r[2].get('retry-after'), r[2]
    assert doc['user_info']['requests_today'] == 1, doc['user_info']
    # The store agrees: the next request is the second one charged.
    st, doc = _run_when_ready(s, ip)
    assert st == 200 and doc['user_info']['requests_today'] == 2, doc


def test_failed_session_creation_is_not_charged(s):
    ip = '198.51.100.78'
    r = _zygotes_die_while_starting(s, ip, lambda: s.request(
        'POST', '/sessions', body=b'{}',
        headers={'Content-Type': 'application/json',
                 'X-Forwarded-For': ip}, timeout=120))
    assert r[0] in (500, 503), r
    st, doc = _run_when_ready(s, ip)
    assert st == 200 and doc['user_info']['requests_today'] == 2, doc
