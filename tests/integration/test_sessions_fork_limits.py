"""Forking cannot multiply a session's budget (issue 13): a family (a
session and its forks) shares one memory cap (session_memory_mb) and one
process cap (max_processes, the jail's uid limit), those of one session;
each session of the family has a CPU budget of its own
(session_cpu_seconds), counted in a CPU cgroup of its own, so a fork
cannot spend its parent's nor the reverse, and what a session leaves
running ends with it. A 60 s call limit, so the time limit never stands
in for the caps."""
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


def _need_cpu_groups(s):
    if not getattr(s, 'cgroups', None):
        raise AssertionError('no delegated cgroup on this host: per-session '
                             'CPU budgets cannot be tested here')


def _alive(s, sid):
    return call(s, 'GET', '/sessions/' + sid)[0] == 200


# Burns CPU until stopped, printing each whole second of its CPU time, so
# the reply of the cell the budget ended shows how far it got.
BURN = ('import time\n'
        't0 = time.process_time()\n'
        'last = 0\n'
        'while True:\n'
        '    t = int(time.process_time() - t0)\n'
        '    if t > last:\n'
        '        last = t\n'
        '        print(t, flush=True)\n')


def test_each_session_of_a_family_has_its_own_cpu_budget(s):
    _need_cpu_groups(s)
    sid = create(s)
    child = None
    try:
        # The parent uses about 5 of its 8 CPU seconds, then forks: the
        # child's budget is 8 seconds of its own, not the 3 left to the
        # parent, and its end leaves the parent alive with its own 3.
        d = cell(s, sid, 'import time\n'
                 't = time.process_time()\n'
                 'while time.process_time() - t < 5: pass')
        assert d['session_alive'] is True, d
        child = _fork(s, sid)
        d = cell(s, child, BURN)
        assert d['session_alive'] is False, d
        assert d['termination'] == 'cpu_limit' or 'CPU' in (
            d['session_message'] or ''), d
        secs = [int(x) for x in d['stdout'].split()]
        assert secs and secs[-1] >= 6, ('the fork was stopped at the '
                                         "parent's remaining budget", d)
        assert _alive(s, sid), 'the fork spent its own budget: not the parent'
        d = cell(s, sid, 'import time\n'
                 't = time.process_time()\n'
                 'while time.process_time() - t < 1.5: pass\n'
                 '"still here"')
        assert d['session_alive'] is True and d['result'] == "'still here'", d
        # The parent's own budget still holds: 8 seconds, not 8 + 8.
        d = cell(s, sid, BURN)
        assert d['session_alive'] is False, d
        assert d['termination'] == 'cpu_limit' or 'CPU' in (
            d['session_message'] or ''), d
        secs = [int(x) for x in d['stdout'].split()]
        assert not secs or secs[-1] <= 3, d
    finally:
        for x in (sid, child):
            if x:
                delete(s, x)


# A detached chain of busy processes (its own session, each link forking
# the next and exiting before RLIMIT_CPU could stop it), which writes the
# pid of its current link to the family's /tmp: all its CPU is the fork's,
# whoever reaps its links.
CHAIN = r'''
import os
if os.fork() == 0:
    os.setsid()
    if os.fork() != 0:
        os._exit(0)
    while True:
        with open('/tmp/chain-%s', 'w') as f:
            f.write(str(os.getpid()))
        t = os.times(); base = t.user + t.system
        while True:
            t = os.times()
            if t.user + t.system - base > 0.5:
                break
        if os.fork() != 0:
            os._exit(0)
os.wait()
'''

# From the parent: the chain's current link and whether it runs (None
# before its first link has written its pid).
LINK = ('import os, time\n'
        'time.sleep(0.3)\n'
        'p = open("/tmp/chain-%s").read() '
        'if os.path.exists("/tmp/chain-%s") else ""\n'
        '(p, os.path.exists("/proc/" + p)) if p else None')


def _link(s, sid, tag):
    return eval(cell(s, sid, LINK % (tag, tag))['result'])


def _running(s, sid, tag):
    # Between two links the file may name the one that just exited.
    end = time.monotonic() + s.slack(20, 5)
    while time.monotonic() < end:
        got = _link(s, sid, tag)
        if got and got[1]:
            return True
        time.sleep(0.2)
    return False


def _stopped(s, sid, tag, wait):
    # Still running, a link moves on within a second; stopped, the last
    # one is gone and no new one comes.
    end = time.monotonic() + wait
    while True:
        a = _link(s, sid, tag)
        time.sleep(1.5)
        b = _link(s, sid, tag)
        if a and a == b and not b[1]:
            return True
        if time.monotonic() > end:
            return False


def test_a_forks_detached_processes_are_its_own(s):
    _need_cpu_groups(s)
    sid = create(s)
    child = other = None
    try:
        child = _fork(s, sid)
        # Started by the child, left running: charged to the child, whose
        # budget ends it (its call returned long ago) while the parent,
        # idle, lives on; the chain dies with the child.
        assert cell(s, child, CHAIN % 'a')['session_alive'] is True
        assert _running(s, sid, 'a'), _link(s, sid, 'a')
        end = time.monotonic() + 8 * 2 + s.slack(60, 20)
        while time.monotonic() < end and _alive(s, child):
            time.sleep(0.5)
        assert not _alive(s, child), 'the fork outlived its CPU budget'
        assert _alive(s, sid), "a fork's processes were charged to its parent"
        assert _stopped(s, sid, 'a', 5), "the fork's processes outlived it"
        # Released instead: the same, at once.
        other = _fork(s, sid)
        assert cell(s, other, CHAIN % 'b')['session_alive'] is True
        assert _running(s, sid, 'b'), _link(s, sid, 'b')
        assert delete(s, other)[0] == 200
        other = None
        assert _stopped(s, sid, 'b', s.slack(10, 5)), (
            "a released fork's processes live on")
        assert _alive(s, sid)
    finally:
        for x in (sid, child, other):
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


# Registered by the parent, run in the fork's middle process and copy
# while the driver holds the fork's fds: every fd that leads out of the
# jail's file system must refuse "..", as a directory fd of the host's
# cgroup file system would not (found by the review: the first version
# handed cgroup v1's group directory to the copy).
PEEK = r'''
import os
def _peek():
    out = []
    for fd in os.listdir('/proc/self/fd'):
        try:
            t = os.readlink('/proc/self/fd/' + fd)
            st = os.fstat(int(fd))
        except OSError:
            continue
        if t.startswith(('pipe:', 'socket:', 'anon_inode:', '/dev/', '/work',
                         '/tmp', '/usr', '/etc', '/proc')):
            continue
        try:
            d = os.open('..', os.O_RDONLY | os.O_DIRECTORY, dir_fd=int(fd))
            out.append('escaped %s -> %s' % (t, os.listdir(d)[:5]))
            os.close(d)
        except OSError as e:
            out.append('refused %s %d' % (t, e.errno))
    with open('/tmp/peek-%d' % os.getpid(), 'w') as f:
        f.write('\n'.join(out) + '\n')
os.register_at_fork(after_in_child=_peek)
'''

READ_PEEK = ('import glob\n'
             '"".join(open(p).read() for p in sorted(glob.glob("/tmp/peek-*")))')


def test_no_fd_at_a_fork_leads_out_of_the_jail(s):
    _need_cpu_groups(s)
    sid = create(s)
    child = None
    try:
        cell(s, sid, PEEK)
        child = _fork(s, sid)
        assert cell(s, child, '6 * 7')['result'] == '42'
        seen = eval(cell(s, sid, READ_PEEK)['result'])
        assert seen, 'the at-fork hook did not run'
        assert 'escaped' not in seen, seen
    finally:
        for x in (sid, child):
            if x:
                delete(s, x)
