"""Sessions (issue 11): session_memory_mb caps the whole session (all its
processes), beyond each process's memory_limit_mb. Real work: a 60 s limit,
so the time limit never stands in for the cap."""
from sess_helpers import create, cell, delete

CONFIG = {'time_limit_seconds': 60, 'session_memory_mb': 160,
          'rate_limit_per_minute': 1000, 'daily_quota': 100000}


def test_session_memory_cap_is_for_the_whole_session(s):
    if not getattr(s, 'cgroups', None):
        raise AssertionError('no delegated memory cgroup on this host: the '
                             'session cap cannot be tested here')
    sid = create(s)
    # Four processes of 70 MB each: each well under RLIMIT_AS (512 MB),
    # together over the session's 160 MB. Children wait on a pipe, not a
    # clock, until all are up.
    d = cell(s, sid, 'import os, subprocess, sys, time\n'
             'code = "import sys\\nb = b\\"x\\" * (70 << 20)\\nsys.stdin.read()"\n'
             'ps = [subprocess.Popen([sys.executable, "-c", code],\n'
             '                       stdin=subprocess.PIPE) for _ in range(3)]\n'
             'b = b"y" * (70 << 20)\n'
             'time.sleep(5)\n'
             'print([p.poll() for p in ps])')
    assert d['oom_killed'] is True, d
    if d['session_alive']:
        assert '-9' in d['stdout'], d      # a child was the victim
        assert cell(s, sid, '1 + 1')['result'] == '2'
    else:
        assert d['termination'] == 'memory_limit', d
        assert 'memory limit' in d['session_message'], d
    delete(s, sid)
