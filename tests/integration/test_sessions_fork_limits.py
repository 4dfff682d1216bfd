"""Forking cannot multiply a session's budget (issue 13): a family (a
session and its forks) shares one memory cap (session_memory_mb) and one
CPU budget (session_cpu_seconds), those of one session. A 60 s call limit,
so the time limit never stands in for the caps. Also one process cap
(max_processes, the jail's uid limit) for the whole family."""
import time

from sess_helpers import call, cell, create, delete

CONFIG = {'time_limit_seconds': 60, 'session_memory_mb': 200,
          'session_cpu_seconds': 8, 'max_sessions': 4, 'max_processes': 12,
          'rate_limit_per_minute': 1000, 'daily_quota': 100000}
TIMEOUT = 300


def _fork(s, sid):
    st, doc, _ = call(s, 'POST', '/sessions/%s/fork' % sid, {}, admin=True)
    assert st == 201, (st, doc)
    return doc['session_id']


def _gone(s, sid):
    return call(s, 'GET', '/sessions/' + sid)[0] == 404


def test_family_shares_one_memory_cap(s):
    if not getattr(s, 'cgroups', None):
        raise AssertionError('no delegated memory cgroup on this host: the '
                             'family cap cannot be tested here')
    sid = create(s)
    child = None
    try:
        # 120 MB written in the parent; the fork shares it (copy-on-write)
        # and costs next to nothing ...
        cell(s, sid, 'b = bytearray(120 << 20)\n'
             'for i in range(0, len(b), 4096): b[i] = 1')
        child = _fork(s, sid)
        d = cell(s, child, 'len(b)')
        assert d['result'] == str(120 << 20), d
        # ... until the child writes its copy: 240 MB of a 200 MB cap. One
        # of the two is killed by the family's OOM killer; never both
        # live with their 120 MB each.
        d = cell(s, child, 'for i in range(0, len(b), 4096): b[i] = 2\n'
                 'sum(b[::4096])')
        time.sleep(1)
        alive = [x for x in (sid, child) if not _gone(s, x)]
        assert d['oom_killed'] is True or len(alive) < 2, d
        if d['session_alive']:
            # The child lived: the parent was the victim.
            assert _gone(s, sid), d
    finally:
        for x in (sid, child):
            if x:
                delete(s, x)


def test_family_shares_one_cpu_budget(s):
    sid = create(s)
    child = None
    try:
        # The parent uses about 5 of the family's 8 CPU seconds; the child
        # then burns: the family's budget ends it (and the parent) long
        # before the call's 60 s, after about 3 more seconds, not 8.
        d = cell(s, sid, 'import time\n'
                 't = time.process_time()\n'
                 'while time.process_time() - t < 5: pass')
        assert d['session_alive'] is True, d
        child = _fork(s, sid)
        t0 = time.monotonic()
        d = cell(s, child, 'while True: pass')
        took = time.monotonic() - t0
        assert d['session_alive'] is False, d
        assert d['termination'] == 'cpu_limit' or 'CPU' in (
            d['session_message'] or ''), d
        assert took < 50, took
        # The parent's keeper checks the family's CPU once a second.
        t1 = time.monotonic()
        end = t1 + 30 + s.slack(40, 10)
        while time.monotonic() < end and not _gone(s, sid):
            time.sleep(0.3)
        assert _gone(s, sid), ('the parent outlived the family budget',
                               time.monotonic() - t1,
                               call(s, 'GET', '/sessions/' + sid)[1])
    finally:
        for x in (sid, child):
            if x:
                delete(s, x)


SPAWN = r'''
import subprocess
got = []
for i in range(%d):
    try:
        got.append(subprocess.Popen(["/bin/sleep", "120"]))
    except OSError:
        break
len(got)
'''


def test_family_shares_one_process_cap(s):
    sid = create(s)
    child = None
    try:
        # Alone, a session reaches about max_processes (12) processes.
        n_alone = int(cell(s, sid, SPAWN % 20)['result'])
        assert 6 <= n_alone <= 12, n_alone
        cell(s, sid, 'for p in got: p.kill(); p.wait()\ndel got')
        # The parent keeps 6; its fork gets only what is left of the
        # family's 12, never 12 of its own.
        assert int(cell(s, sid, SPAWN % 6)['result']) == 6
        child = _fork(s, sid)
        n_child = int(cell(s, child, SPAWN % 20)['result'])
        assert n_child <= n_alone - 6 + 1, (n_alone, n_child)
    finally:
        for x in (sid, child):
            if x:
                delete(s, x)
