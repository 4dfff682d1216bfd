"""mode = zygote: an idle worker pre-builds its next run's jail (issue 16;
src/run/supervise.c, struct spare). A request that finds one ready runs in
it; one with limits of its own gets a new jail; every run's jail is still
fresh, and the request's files and role reach the pre-built jail intact."""
import hashlib
import os
import re
import signal
import subprocess
import tempfile
import threading
import time

from escape_util import prebuilt_jails, proc_table, worker_pids
from helpers import b64, ok
from procfs import running, traced

MODES = ('zygote',)
WORKERS = 2

# When the jail the code runs in was made: its init's start, on the
# kernel's boot clock (/proc/1/stat's starttime, in ticks), which the
# host reads too (no time namespace).
AGE = '''
import os, time
st = open('/proc/1/stat').read().rsplit(')', 1)[1].split()
print('%.3f' % (int(st[19]) / os.sysconf('SC_CLK_TCK')))
'''
TICK = 0.011        # starttime's resolution (100 Hz), and a margin


def boot_now():
    return time.clock_gettime(time.CLOCK_BOOTTIME)


def ready_workers(s):
    """The workers that hold an idle pre-built jail now."""
    table = proc_table()
    workers = worker_pids(s, table)
    # prebuilt_jails gives each jail's init (a worker's child) and the
    # init's child
    return {table[p][0] for p in prebuilt_jails(s, table)
            if p in table and table[p][0] in workers}


def describe_workers(s):
    """For a failure's message: each worker's children and grandchildren,
    with their names and the system call each is blocked in."""
    table = proc_table()
    out = []
    for w in sorted(worker_pids(s, table)):
        kids = []
        for p, (pp, _, comm) in sorted(table.items()):
            if pp == w:
                grand = ['%d:%s:%s' % (k, c, syscall_of(k))
                         for k, (kp, _, c) in sorted(table.items())
                         if kp == p]
                kids.append('%d:%s[%s]' % (p, comm, ' '.join(grand)))
        out.append('worker %d: %s' % (w, ', '.join(kids) or '-'))
    return '; '.join(out)


def syscall_of(pid):
    try:
        with open('/proc/%d/syscall' % pid) as f:
            return ','.join(f.read().split()[:2])
    except OSError:
        return '?'


def idle(s, seconds):
    """Lets every worker build its next jail: at least `seconds`, then
    until each worker holds one (a request can reach any worker; one that
    lost the race for the last request builds its jail when its accept
    wakes, fcgi.c's accept_wakes; under load a build takes longer than
    any fixed wait). The wait."""
    t0 = time.monotonic()
    time.sleep(seconds)
    deadline = t0 + seconds + s.slack(runs=40)
    while len(ready_workers(s)) < WORKERS and time.monotonic() < deadline:
        time.sleep(0.2)
    return time.monotonic() - t0


def made_at(doc):
    return float(ok(doc)['stdout'])


def test_idle_worker_runs_in_a_prebuilt_jail(s):
    ok(s.execute({'code': 'pass'}))
    waited = idle(s, 3)
    assert len(ready_workers(s)) == WORKERS, \
        'not every worker holds a pre-built jail after %.1f s: %s' % (
            waited, describe_workers(s))
    # Made before this request was sent.
    sent = boot_now()
    made = made_at(s.execute({'code': AGE, 'api_key': s.admin_key}))
    assert made < sent - TICK, (made, sent)


def test_every_worker_builds_one_after_a_burst(s):
    # Back to back, requests find workers polling for a quiet moment: all
    # wake for each, one accepts, the others wait in accept(2) until it
    # wakes them (fcgi.c, accept_wakes) and build theirs then.
    for _ in range(4 * WORKERS):
        ok(s.execute({'code': 'pass'}))
    waited = idle(s, 1)
    assert len(ready_workers(s)) == WORKERS, \
        'not every worker holds a pre-built jail after %.1f s: %s' % (
            waited, describe_workers(s))


def test_own_limits_get_a_new_jail(s):
    idle(s, 3)
    sent = boot_now()
    d = ok(s.execute({'code': AGE + 'import resource\n'
                      'print(resource.getrlimit(resource.RLIMIT_NPROC)[0])',
                      'limits': {'max_processes': 3},
                      'api_key': s.admin_key}))
    made, nproc = d['stdout'].split()
    # Not the pre-built jail (made with the server's limits) but one of
    # its own, made for this request, with the request's process cap.
    assert float(made) >= sent - TICK, (made, sent)
    assert int(nproc) <= 3 + 2, nproc


def test_each_run_gets_a_fresh_jail(s):
    idle(s, 1)
    first = ok(s.execute({'code': (
        'import os, subprocess\n'
        'open("/work/left", "w").write("x")\n'
        'open("/tmp/left", "w").write("x")\n'
        'subprocess.Popen(["sleep", "600"], start_new_session=True)\n'
        'print(os.getpid())'), 'api_key': s.admin_key}))
    assert first['stdout'].strip().isdigit(), first
    idle(s, 1)
    second = ok(s.execute({'code': (
        'import os\n'
        'print(sorted(os.listdir("/work")), sorted(os.listdir("/tmp")),\n'
        '      sorted(int(p) for p in os.listdir("/proc") if p.isdigit()))'),
        'api_key': s.admin_key}))
    work, tmp, pids = second['stdout'].rsplit(']', 3)[:3]
    assert 'left' not in work and 'left' not in tmp, second
    # init and this script: the sleep of the run before is not here
    assert eval(pids.strip(' ,') + ']') == [1, 2], second['stdout']


# AGE for a public caller, who may not import os: CLK_TCK is 100 on Linux.
AGE_PUBLIC = AGE.replace('import os, time', 'import time').replace(
    "os.sysconf('SC_CLK_TCK')", '100')
assert AGE_PUBLIC != AGE and 'os' not in AGE_PUBLIC.split('import')[1]


def test_files_and_role_reach_a_prebuilt_jail(s):
    idle(s, 3)
    # a public run in a pre-built jail, with its stdin
    sent = boot_now()
    d = ok(s.execute({'code': AGE_PUBLIC + 'print(input())',
                      'stdin_data': 'from stdin\n'}))
    made, line = d['stdout'].split('\n', 1)
    assert float(made) < sent - TICK and line == 'from stdin\n', (d, sent)
    idle(s, 1)
    st, doc, _ = s.execute({'code': 'import socket\nprint(1)'})
    # public: the import policy holds in a pre-built jail too
    assert st == 400 and doc['error_details']['type'] == \
        'ForbiddenImportError', (st, doc)
    idle(s, 1)
    data = bytes(range(256)) * 40
    d = ok(s.execute({'code': (
        'import socket, hashlib\n'
        'print(hashlib.sha256(open("a/b/c.bin", "rb").read()).hexdigest())\n'
        'print(open("t.txt").read())'),
        'api_key': s.admin_key,
        'attachments': [{'filename': 'a/b/c.bin', 'content_base64': b64(data)},
                        {'filename': 't.txt', 'content_base64': b64(b'hi')}]}))
    assert d['stdout'] == hashlib.sha256(data).hexdigest() + '\nhi\n', d


def test_a_prebuilt_jail_killed_unused_is_not_used(s):
    idle(s, 3)
    spares = prebuilt_jails(s)
    assert spares, 'no idle pre-built jail'
    killed = boot_now()
    for pid in spares:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    # Dead before the next request: one that dies while a request takes
    # it fails that request (SandboxError, refunded), as any jail would.
    deadline = time.monotonic() + s.slack()
    while time.monotonic() < deadline and any(running(p) for p in spares):
        time.sleep(0.05)
    assert not any(running(p) for p in spares), spares
    # Each worker notices at its next request and builds a new jail: no
    # run is in one made before the kill.
    for _ in range(2 * WORKERS):
        made = made_at(s.execute({'code': AGE, 'api_key': s.admin_key}))
        assert made >= killed - TICK, (made, killed)
    assert 'a pre-built jail ended unused' in s.worker_log_text()


def test_self_test_ran_in_a_prebuilt_jail(s):
    log = s.worker_log_text()
    passed = [l for l in log.splitlines() if 'self-test passed' in l]
    assert passed and all(l.endswith(', in a new and in a pre-built jail')
                          for l in passed), log[-2000:]


def test_an_idle_worker_looks_less_often_while_runs_are_in_flight(s):
    # While a run is in flight, a worker that has served a request waits
    # for a quiet moment to build its jail, polling the listening socket
    # (execute.c, execute_idle): every 10 ms at first, then less and less
    # often, up to 80 ms. Counted with strace over two seconds of a long
    # run: at 10 ms it would be about 200 polls.
    idle(s, 1)
    long_run = {}
    t = threading.Thread(target=lambda: long_run.update(r=s.execute(
        {'code': 'import time\ntime.sleep(6)', 'api_key': s.admin_key},
        timeout=120)))
    t.start()
    try:
        time.sleep(0.5)
        ok(s.execute({'code': 'pass'}))     # the other worker
        workers = sorted(worker_pids(s))
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, 'trace')
            argv = ['strace', '-qq', '-e', 'trace=poll', '-e',
                    'signal=none', '-o', out]
            for p in workers:
                argv += ['-p', str(p)]
            tr = subprocess.Popen(argv, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
            try:
                deadline = time.monotonic() + 30
                while not all(traced(p) for p in workers):
                    assert time.monotonic() < deadline, 'strace did not attach'
                    time.sleep(0.05)
                t0 = time.monotonic()
                time.sleep(2)
            finally:
                tr.send_signal(signal.SIGINT)
                tr.wait(timeout=60)
            elapsed = time.monotonic() - t0
            with open(out) as f:
                text = f.read()
    finally:
        t.join(120)
    assert ok(long_run['r'])['exit_code'] == 0
    # PID poll([{fd=0, events=POLLIN}], 1, 80) = 0 (Timeout)
    waits = [int(x) for x in re.findall(
        r'^(?:\d+ +)?poll\(\[\{fd=0, events=POLLIN\}\], 1, (\d+)\)', text,
        re.M)]
    assert waits, 'no idle worker polled: %r' % text[-2000:]
    assert max(waits) == 80 and len(waits) < 60, (len(waits), elapsed,
                                                  waits[:40])
