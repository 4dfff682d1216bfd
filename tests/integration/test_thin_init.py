"""mode = zygote: once Python runs, the jail's PID 1 is the thin init (a
small static program exec'd from a sealed memfd), not a second copy of
the zygote's interpreter, and nothing in the jail can read it."""
import os
import threading
import time

from helpers import ok
from procfs import all_stats, stat_or_none

MODES = ('zygote',)


def vm_rss_kb(pid):
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1])
    return 0


def jail_inits(s):
    """PID 1 of each running jail of this stack: a child of a worker."""
    pool = s.procs[0].pid
    out = []
    for st in all_stats():
        parent = stat_or_none(st.ppid)
        if parent and parent.comm == 'pyexec-fcgi' and parent.ppid == pool \
                and st.comm != 'pyexec-zygote':
            out.append((st.pid, st.comm, st.ppid))
    return out


def zygote_rss_kb(s, worker):
    for st in all_stats():
        if (st.comm, st.ppid) == ('pyexec-zygote', worker):
            try:
                return vm_rss_kb(st.pid)
            except OSError:
                pass
    return 0


def test_jail_init_is_thin(s):
    res = {}
    # Before the run starts: slack() calibrates with runs of its own.
    wait = s.slack(runs=40)

    def run():
        res['r'] = s.execute({'code': 'import time\nprint("up", flush=True)\n'
                                      'time.sleep(%d)\nprint("done")' % 4})
    t = threading.Thread(target=run)
    t.start()
    seen = None
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline and seen is None:
        for pid, comm, worker in jail_inits(s):
            # init runs as 'pyexec-zygote' (its comm) until it execs
            if comm == 'pyexec-init':
                try:
                    seen = (pid, worker, vm_rss_kb(pid),
                            os.stat('/proc/%d/exe' % pid).st_mode,
                            os.stat('/proc/%d/auxv' % pid).st_uid,
                            zygote_rss_kb(s, worker))
                except OSError:
                    continue
        time.sleep(0.02)
    t.join()
    assert 'done' in ok(res['r'])['stdout'], res['r']
    assert seen is not None, "no jail init named pyexec-init: %s" % jail_inits(s)
    pid, worker, rss, mode, owner, zrss = seen
    # A few pages, where a copy of the zygote maps tens of MiB.
    assert rss * 5 < zrss, 'init VmRSS %d kB, zygote %d kB' % (rss, zrss)
    # Execute-only for everyone: the kernel keeps init non-dumpable
    # across the exec, so its /proc files are root's, not the script's
    # uid's (the kernel's task_dump_owner()).
    assert mode & 0o7777 == 0o111, oct(mode)
    assert owner == 0, 'init is dumpable: /proc/%d owned by %d' % (pid, owner)


def session_inits():
    """pid -> VmRSS kB of each thin init whose parent is a session keeper
    (a session leader: the keeper setsid()s)."""
    out = {}
    for st in all_stats():
        parent = stat_or_none(st.ppid)
        if st.comm == 'pyexec-init' and parent and parent.session == st.ppid:
            try:
                out[st.pid] = vm_rss_kb(st.pid)
            except OSError:
                pass
    return out


def zombies_of(pid):
    return [st.pid for st in all_stats() if st.state == 'Z' and st.ppid == pid]


def test_session_init_is_thin(s):
    """A session's init is the thin one too (its "keep" mode): it reaps
    what the session leaves, outlives nothing of the session's, and ends
    with it."""
    from sess_helpers import cell, create, delete
    before = set(session_inits())
    sid = create(s)
    assert cell(s, sid, '1+1')['result'] == '2'
    mine = {p: rss for p, rss in session_inits().items() if p not in before}
    assert len(mine) == 1, (mine, before)
    (init, rss), = mine.items()
    zrss = max(_rss_or_0(int(d)) for d in os.listdir('/proc')
               if d.isdigit() and _comm(int(d)) == 'pyexec-zygote')
    assert rss * 5 < zrss, 'session init VmRSS %d kB, zygote %d kB' % (
        rss, zrss)
    # Orphans of a cell (a double fork) become init's children: reaped.
    ed = cell(s, sid, 'import os\nfor i in range(5):\n'
                      '    if os.fork() == 0:\n'
                      '        if os.fork() != 0:\n'
                      '            os._exit(0)\n'
                      '        os._exit(0)\n'
                      '    os.waitpid(-1, 0)\n'
                      'x = 7')
    assert ed['error'] is None, ed
    deadline = time.monotonic() + s.slack()
    while zombies_of(init) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not zombies_of(init), 'unreaped: %s' % zombies_of(init)
    assert cell(s, sid, 'x * 6')['result'] == '42'
    assert delete(s, sid)[0] == 200
    assert not os.path.exists('/proc/%d' % init)


def _private_kb(pid):
    kb = 0
    with open('/proc/%d/smaps_rollup' % pid) as f:
        for line in f:
            if line.startswith(('Private_Clean:', 'Private_Dirty:')):
                kb += int(line.split()[1])
    return kb


def test_session_keeper_runs_no_python(s):
    """A session's keeper is a copy of the zygote that runs only C: it
    leaves CPython's after-fork work (reseeding random and numpy,
    threading's and logging's hooks) to the session's interpreter, so
    it owns few pages of its own. With that work it owned about 1 MiB
    (every page the hooks wrote), for each idle session."""
    from sess_helpers import cell, create, delete
    before = set(session_inits())
    sid = create(s)
    assert cell(s, sid, '1+1')['result'] == '2'
    mine = [p for p in session_inits() if p not in before]
    assert len(mine) == 1, mine
    keeper = stat_or_none(mine[0]).ppid
    assert _comm(keeper) == 'pyexec-zygote', _comm(keeper)
    kb = _private_kb(keeper)
    assert kb < 512, 'the keeper owns %d kB of its own' % kb
    assert delete(s, sid)[0] == 200


def _comm(pid):
    st = stat_or_none(pid)
    return st.comm if st else ''


def _rss_or_0(pid):
    try:
        return vm_rss_kb(pid)
    except OSError:
        return 0        # gone meanwhile
