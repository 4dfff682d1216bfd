"""Memory and process limits, and a run that ends while a daemon lingers.

These runs do real work (forks, hundreds of MiB of page faults) that takes
seconds on a machine slow at page faults, so the deadline is far away: a
timeout must never pass for the limit under test. No test waits for a
fixed time either: processes that must be alive together hold on to a
pipe until the script has seen them all, whatever the machine's speed.
"""
import json
import time

from helpers import ok

# 192 MiB: each process below stays under RLIMIT_AS (the zygote's copy of
# Python maps about 60 MiB), while the run as a whole passes the cgroup cap.
# max_code_chars as in the escape suite, whose memory_bomb.py shares this stack.
CONFIG = {'time_limit_seconds': 60, 'memory_limit_mb': 192,
          'max_code_chars': 20000}


def _require_memory_cgroup(s):
    if 'cgroup v1 memory cap per run' not in s.worker_log_text():
        raise AssertionError('no per-run memory cgroup on this host: ' +
                             s.worker_log_text()[-500:])


def test_daemon_does_not_outlive_quick_exit(s):
    # The parent exits at once; a daemon holding stdout must not keep the
    # request open until the deadline, and must be gone afterwards.
    code = '''
import os, time
if os.fork() == 0:
    os.setsid()
    while True:
        time.sleep(1)
print("bye")
'''
    t = time.time()
    d = ok(s.execute({'code': code, 'api_key': s.admin_key}))
    took = time.time() - t
    assert took < min(s.slack(), 30), took
    assert d['stdout'] == 'bye\n'


# Forks children that block on a pipe it holds until a fork is refused:
# [children made, errno of the refusal]. All are alive at the refusal, and
# die with the run when the script exits.
FORKS = '''
import os
def forks():
    r, w = os.pipe()
    n = 0
    try:
        for i in range(50):
            if os.fork() == 0:
                os.close(w)
                os.read(r, 1)
                os._exit(0)
            n += 1
    except OSError as e:
        return [n, e.errno]
'''


def test_process_limit(s):
    # Children block on a pipe the script holds: all are alive when the
    # next fork is refused, and die with the run when the script exits.
    code = FORKS + 'print("blocked after", *forks())\n'
    d = ok(s.execute({'code': code, 'api_key': s.admin_key}))
    # max_processes = 10 counts the script itself: 9 children.
    assert d['stdout'] == 'blocked after 9 11\n', d['stdout']


# Children touch their memory, say "+" and wait for "go"; the script waits
# until each child has said "+" or died, so all that survive hold their
# memory at the same time.
HOLD_TOGETHER = '''
import os, select
def hold_together(n, mib, parent_too=False):
    r, w = os.pipe()
    go_r, go_w = os.pipe()
    kids = []
    for i in range(n):
        pid = os.fork()
        if pid == 0:
            b = bytearray(mib << 20)
            for j in range(0, len(b), 4096):
                b[j] = 1
            os.write(w, b'+')
            os.read(go_r, 1)
            os._exit(0)
        kids.append(pid)
    os.close(w)
    if parent_too:
        b = bytearray(mib << 20)
        for j in range(0, len(b), 4096):
            b[j] = 1
    ready, status = 0, {}
    while ready + len(status) < n:
        if select.select([r], [], [], 0.1)[0]:
            ready += len(os.read(r, 64))
        for pid in kids:
            if pid not in status:
                got, st = os.waitpid(pid, os.WNOHANG)
                if got:
                    status[pid] = os.waitstatus_to_exitcode(st)
    os.write(go_w, b'x' * n)
    for pid in kids:
        if pid not in status:
            status[pid] = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    return sorted(status.values())
'''


def test_memory_limit_per_run(s):
    # Each child stays under RLIMIT_AS (192 MiB), but together they pass the
    # run's 192 MiB cgroup cap: the kernel kills some, and the run says so.
    code = HOLD_TOGETHER + 'print(hold_together(4, 64))\n'
    _require_memory_cgroup(s)
    d = ok(s.execute({'code': code, 'api_key': s.admin_key}))
    assert d['oom_killed'] is True, d
    assert '-9' in d['stdout'], d['stdout']   # at least one child was killed
    assert d['termination'] == 'exited', d


def test_memory_limit_kills_main(s):
    # The script and its child each hold 112 MiB: one of them must go.
    code = HOLD_TOGETHER + 'print(hold_together(1, 112, parent_too=True))\n'
    _require_memory_cgroup(s)
    d = ok(s.execute({'code': code, 'api_key': s.admin_key}))
    assert d['oom_killed'] is True, d
    # Whichever process the kernel picked, the run was cut short by memory.
    assert d['termination'] in ('memory_limit', 'exited'), d
    if d['termination'] == 'exited':
        assert d['stdout'] == '[-9]\n', d['stdout']


def test_no_oom_flag_normally(s):
    d = ok(s.execute({'code': 'print(1)'}))
    assert d['oom_killed'] is False


def test_evaluate_cases_keep_the_run_limits(s):
    """/evaluate: every case is held to a run's limits on its own. A case
    the memory cgroup cuts short fails alone, and the cases after it in the
    same lanes run (zygote mode: each is forked by its lane's case server,
    which shares the lane's cgroups with it, and outlives it or is
    replaced); a case's process limit is a run's (9 children)."""
    _require_memory_cgroup(s)
    code = (HOLD_TOGETHER + FORKS + '''
def f(k):
    if k == "hold":
        return hold_together(1, 112, parent_too=True)
    if k == "forks":
        return forks()
    return k
''')
    # More cases than lanes: most run after another case in their lane.
    kinds = ['hold', 'forks', 'hold'] + ['forks'] * 6 + ['ok'] * 3
    want = {'hold': 'never', 'forks': [9, 11], 'ok': 'ok'}
    body = {'code': code, 'entry_point': 'f', 'api_key': s.admin_key,
            'cases': [{'args': [k], 'expected': want[k]} for k in kinds]}
    st, _, data = s.request('POST', '/evaluate', json.dumps(body).encode(),
                            {'Content-Type': 'application/json'},
                            timeout=300)
    assert st == 200, (st, data[:2000])
    r = json.loads(data)['case_results']
    assert len(r) == len(kinds), r
    assert [c['passed'] for c in r] == [k != 'hold' for k in kinds], \
        [(c['got'], c['error'], c['termination']) for c in r]
    for c in (r[0], r[2]):
        # The script or its child was killed: either way, by memory.
        assert c['termination'] == 'memory_limit' or c['got'] == [-9], c
