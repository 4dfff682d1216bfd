"""A worker that multiwatch restarts trusts a recent self-test of the same
binary, configuration and boot instead of probing again (while it probes,
requests wait in the socket's backlog: issue 19's soak saw 504s when the
pool was killed again and again). The stamp is trusted only if the service
user owns it, nobody else can write it, and it names this identity."""
import os
import re
import signal
import stat
import time

from helpers import ok

MODES = ('zygote',)


def _workers(s):
    pids = set(int(p) for p in re.findall(r'\[(\d+)\]: worker ready',
                                          s.worker_log_text()))
    return {p for p in pids if os.path.exists('/proc/%d' % p)}


def _restart_one(s):
    """SIGKILLs a worker; returns the log its replacement wrote up to
    'worker ready'."""
    before = _workers(s)
    mark = len(s.worker_log_text())
    os.kill(sorted(before)[0], signal.SIGKILL)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        new = _workers(s) - before
        if new:
            pid = new.pop()
            return '\n'.join(l for l in s.worker_log_text()[mark:].splitlines()
                             if '[%d]' % pid in l)
        time.sleep(0.1)
    raise AssertionError('no worker replaced the killed one')


def test_restarted_worker_trusts_a_recent_probe(s):
    path = os.path.join(s.config['runtime_dir'], 'selftest.ok')
    st = os.lstat(path)
    assert stat.S_ISREG(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o600, st
    log = _restart_one(s)
    assert 'not repeated' in log and 'self-test passed in' not in log, log
    ok(s.execute({'code': 'print(1)'}))


def test_a_stamp_others_can_write_is_not_trusted(s):
    path = os.path.join(s.config['runtime_dir'], 'selftest.ok')
    os.chmod(path, 0o666)
    log = _restart_one(s)
    assert 'self-test passed in' in log and 'not repeated' not in log, log
    # The probe that passed wrote a fresh, private stamp.
    assert stat.S_IMODE(os.lstat(path).st_mode) == 0o600


def test_a_stamp_of_another_identity_is_not_trusted(s):
    path = os.path.join(s.config['runtime_dir'], 'selftest.ok')
    with open(path) as f:
        text = f.read()
    forged = re.sub(r' [0-9a-f]{16} ', ' 0000000000000000 ', text)
    assert forged != text, text
    with open(path, 'w') as f:
        f.write(forged)
    log = _restart_one(s)
    assert 'self-test passed in' in log and 'not repeated' not in log, log
