"""Each session of a family has its own clocks (issue 13): a fork's call
time limit interrupts or kills only the fork; each has its own idle timer;
once the whole family has ended nothing is left (processes, socket, mount
point, cgroup)."""
import time

from sess_helpers import call, cell, create, delete, run

CONFIG = {'session_idle_seconds': 14, 'time_limit_seconds': 2,
          'max_sessions': 4, 'rate_limit_per_minute': 1000,
          'daily_quota': 100000}
TIMEOUT = 300


def _fork(s, sid):
    st, doc, _ = call(s, 'POST', '/sessions/%s/fork' % sid, {}, admin=True)
    assert st == 201, (st, doc)
    return doc['session_id']


def _gone(s, sid):
    return call(s, 'GET', '/sessions/' + sid)[0] == 404


def test_fork_time_limit_is_its_own(s):
    sid = create(s)
    child = _fork(s, sid)
    try:
        cell(s, sid, 'import signal')
        # The child's cell interrupted at its limit: only the child's.
        d = cell(s, child, 'n = 0\nwhile True:\n    n += 1')
        assert d['termination'] == 'timeout' and d['session_alive'], d
        assert d['error']['type'] == 'KeyboardInterrupt', d
        assert cell(s, child, 'n > 0')['result'] == 'True'
        assert cell(s, sid, '1')['result'] == '1'   # the parent's idle timer
        # A child ignoring the interrupt is killed; the parent lives.
        d = cell(s, child, 'import signal\n'
                 'signal.signal(signal.SIGINT, signal.SIG_IGN)\n'
                 'while True: pass')
        assert d['session_alive'] is False, d
        assert 'did not stop' in d['session_message'], d
        assert _gone(s, child)
        assert cell(s, sid, '2 + 2')['result'] == '4'
    finally:
        delete(s, child)
        delete(s, sid)


def test_each_has_its_own_idle_timer(s):
    from test_sessions_lifetime import _leftovers
    sid = create(s)
    child = _fork(s, sid)
    # The child is used, the parent is not: the parent expires first.
    end = time.monotonic() + 14 + 20
    while time.monotonic() < end and not _gone(s, sid):
        cell(s, child, '1')
        time.sleep(0.5)
    assert _gone(s, sid), 'the parent never expired'
    assert cell(s, child, '"alive"')['result'] == "'alive'"
    # Then the child, unused, expires too; with it the family's jail.
    end = time.monotonic() + 14 + 20 + s.slack(30, 10)
    while time.monotonic() < end and _leftovers(s) != ([], [], []):
        time.sleep(0.5)
    assert _gone(s, child)
    assert _leftovers(s) == ([], [], []), _leftovers(s)
