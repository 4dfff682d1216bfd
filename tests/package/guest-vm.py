#!/usr/bin/python3
"""The VM test's checks, run as root inside the booted Debian 12 VM
(test-vm.sh puts this file, the .deb and the expected settings on the 9p
share /mnt/host; the image's boot unit runs it and powers off).

Proves, on Debian 12's own kernel and systemd with the unified cgroup v2
hierarchy, that the installed package enforces per-run caps in the kernel:
memory across processes (memory.max, OOM of the whole run reported as
oom_killed / memory_limit while concurrent runs succeed), processes
(pids.max stops a fork bomb: pids.events counts the refusals), nothing of a
run left in the cgroup tree, and no cgroup left after a worker is killed
mid-run, after `systemctl restart pyexec`, and after `apt purge`.
Sessions too: a family's cgroup with the session memory cap, a CPU
cgroup per session inside it (a fork's own), a fork's CPU budget ending
the fork but not its parent, and nothing left once the family is gone.

Prints "PASS name" / "FAIL name: why" lines and "vm-test: PASS|FAIL";
exits 0 only if every check passed.
"""
import glob
import json
import os
import re
import ssl
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

SHARE = '/mnt/host'
SVC = '/sys/fs/cgroup/system.slice/pyexec.service'
URL = 'https://127.0.0.1/execute'
BASE = 'https://127.0.0.1'
SESS_CPU = 4
WORKERS = 4
MEM_MB = 192
MAX_PROCS = 10
T0 = time.monotonic()
failures = []
CTX = ssl.create_default_context()
CTX.check_hostname = False
CTX.verify_mode = ssl.CERT_NONE     # Debian's snakeoil certificate


def elapsed():
    return '%.0fs' % (time.monotonic() - T0)


def step(name):
    print('== %s (%s)' % (name, elapsed()), flush=True)


def check(name, cond, why=''):
    if cond:
        print('PASS', name, flush=True)
    else:
        print('FAIL %s: %s' % (name, why), flush=True)
        failures.append(name)
    return cond


def sh(cmd, check_rc=True, timeout=600):
    p = subprocess.run(cmd, shell=True, capture_output=True, text=True,
                       timeout=timeout)
    if check_rc and p.returncode != 0:
        raise RuntimeError('%s: rc %d: %s%s' % (cmd, p.returncode, p.stdout,
                                                p.stderr))
    return p.stdout


def wait_for(what, fn, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            if fn():
                return True
        except (OSError, ValueError, RuntimeError):
            pass
        time.sleep(1)
    print('   (gave up waiting for %s after %ds)' % (what, timeout))
    return False


def send(req, timeout):
    """(status, JSON body) of one request; an error's body too."""
    try:
        with urllib.request.urlopen(req, context=CTX, timeout=timeout) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            return e.code, json.loads(raw)
        except ValueError:
            return e.code, {'raw': raw.decode('utf-8', 'replace')}


def execute(code, key, timeout=300):
    body = json.dumps({'code': code, 'api_key': key}).encode()
    return send(urllib.request.Request(URL, data=body, headers={
        'Content-Type': 'application/json'}), timeout)


def api(method, path, payload, key, timeout=300):
    body = json.dumps(payload).encode() if payload is not None else None
    return send(urllib.request.Request(
        BASE + path, data=body, method=method,
        headers={'Content-Type': 'application/json',
                 'Authorization': 'Bearer ' + key}), timeout)


def sess_cgroups():
    return sorted(glob.glob(SVC + '/sess.*'))


def run_cgroups():
    return sorted(glob.glob(SVC + '/run.*'))


def read(path):
    with open(path) as f:
        return f.read().strip()


def workers_ready(n):
    inv = sh('systemctl show -P InvocationID pyexec.service').strip()
    if not inv:
        return False
    log = sh('journalctl -o cat _SYSTEMD_INVOCATION_ID=%s' % inv, False)
    return log.count('worker ready') >= n


def journal():
    inv = sh('systemctl show -P InvocationID pyexec.service').strip()
    return sh('journalctl -o cat _SYSTEMD_INVOCATION_ID=%s' % inv, False)


HOLD_TOGETHER = '''
import os, select
def hold_together(n, mib):
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
print(hold_together(4, 64))
'''

KINDS = [1] + [0] * 40     # /evaluate: a memory bomb, then slower cases

FORK_BOMB = '''
import os, time
n = 0
try:
    while True:
        if os.fork() == 0:
            time.sleep(15)
            os._exit(0)
        n += 1
except OSError as e:
    print('forked', n, e.errno)
time.sleep(15)
'''


def sessions(key):
    st, d = api('POST', '/sessions', {}, key)
    if not check('a session is created', st == 201, (st, d)):
        return
    sid = d['session_id']
    fams = sess_cgroups()
    check('one family cgroup, with the session memory cap and pids.max',
          len(fams) == 1 and read(fams[0] + '/memory.max') == str(
              MEM_MB << 20) and read(fams[0] + '/pids.max') == str(
              MAX_PROCS + 1) and read(fams[0] + '/memory.oom.group') == '1',
          fams)
    fam = fams[0] if fams else '/nonexistent'
    own = glob.glob(fam + '/sess.*')
    check("the family's processes are in the session's CPU cgroup, none "
          'in the family cgroup itself', len(own) == 1 and
          read(fam + '/cgroup.procs') == '' and
          len(read(own[0] + '/cgroup.procs').split()) == 2, own)
    st, d = api('POST', '/sessions/%s/fork' % sid, {}, key)
    if not check('the session is forked', st == 201, (st, d)):
        print('\n'.join('   | ' + l for l in journal().splitlines()
                        if 'session' in l)[-3000:])
        return
    kid = d['session_id']
    groups = sorted(glob.glob(fam + '/sess.*'))
    mine = [g for g in groups if g not in own]
    check("the fork has a CPU cgroup of its own in the family's, holding "
          'its interpreter', len(mine) == 1 and
          len(read(mine[0] + '/cgroup.procs').split()) == 1, groups)
    st, d = api('POST', '/sessions/%s/execute' % kid,
                {'code': 'while True: pass'}, key)
    ed = d.get('execution_details', {})
    check('the fork ends at its CPU budget (%d s)' % SESS_CPU, st == 200 and
          ed.get('session_alive') is False and
          (ed.get('termination') == 'cpu_limit' or
           'CPU' in (ed.get('session_message') or '')), (st, d))
    check("the fork's CPU cgroup is gone with it", bool(mine) and wait_for(
        "the fork's CPU cgroup to go", lambda: not os.path.exists(mine[0]),
        30), mine)
    st, d = api('POST', '/sessions/%s/execute' % sid,
                {'code': '6 * 7'}, key)
    check('its parent lives on, its budget untouched', st == 200 and
          d.get('execution_details', {}).get('result') == '42', (st, d))
    cpu = int(re.search(r'usage_usec (\d+)', open(own[0] + '/cpu.stat').read())
              .group(1)) if own and os.path.exists(own[0]) else -1
    print("   the parent's CPU cgroup: %.2f s" % (cpu / 1e6))
    check("the fork's CPU was not counted in the parent's group",
          0 <= cpu < SESS_CPU * 1e6 / 2, cpu)
    st, d = api('DELETE', '/sessions/' + sid, None, key)
    check('the parent is released', st == 200, (st, d))
    check('nothing of the family is left in the cgroup tree', wait_for(
        'no session cgroup', lambda: sess_cgroups() == [], 60),
        sess_cgroups())


def main():
    step('the machine: Debian 12 kernel, systemd, cgroup v2')
    print('   kernel', os.uname().release)
    print('   ' + sh('systemctl --version').splitlines()[0])
    fstype = sh('stat -fc %T /sys/fs/cgroup').strip()
    check('unified cgroup hierarchy', fstype == 'cgroup2fs', fstype)

    step('apt-get install ./pyexec.deb (offline)')
    sh('cp %s/pyexec.deb /var/tmp/pyexec.deb' % SHARE)
    out = sh('DEBIAN_FRONTEND=noninteractive apt-get install -y -q '
             '/var/tmp/pyexec.deb 2>&1', False)
    installed = 'install ok installed' in sh(
        "dpkg-query -W -f='${Status}' pyexec", False)
    if not check('package installed', installed, out[-2000:]):
        return

    step('configure as an operator: memory_limit_mb %d, %d workers, '
         'nginx site' % (MEM_MB, WORKERS))
    conf = '/etc/pyexec/pyexec.conf'
    text = open(conf).read()
    text = re.sub(r'(?m)^#?memory_limit_mb = .*$',
                  'memory_limit_mb = %d' % MEM_MB, text)
    # Software emulation is slow: generous wall clock for the checks.
    text = re.sub(r'(?m)^#?time_limit_seconds = .*$',
                  'time_limit_seconds = 120', text)
    text = re.sub(r'(?m)^#?session_cpu_seconds = .*$',
                  'session_cpu_seconds = %d' % SESS_CPU, text)
    # The checks count run cgroups between runs, and an idle worker's
    # pre-built jail (prebuilt_jails, Architecture) holds one until its
    # request: without them, a run cgroup left is a run's.
    text = re.sub(r'(?m)^#?prebuilt_jails = .*$', 'prebuilt_jails = 0',
                  text)
    open(conf, 'w').write(text)
    os.makedirs('/etc/systemd/system/pyexec.service.d', exist_ok=True)
    with open('/etc/systemd/system/pyexec.service.d/vmtest.conf', 'w') as f:
        f.write('[Service]\nEnvironment=PYEXEC_WORKERS=%d\n' % WORKERS)
    sh('ln -sf ../sites-available/pyexec /etc/nginx/sites-enabled/pyexec')
    # Runs may take two minutes under emulation; nginx must wait for them.
    sh("sed -i 's/fastcgi_read_timeout [0-9]*s/fastcgi_read_timeout 300s/' "
       "/etc/nginx/snippets/pyexec.conf", False)
    sh('nginx -t 2>&1 && systemctl restart nginx')
    sh('systemctl daemon-reload && systemctl restart pyexec')
    key = read('/etc/pyexec/admin.key')
    ready = wait_for('workers ready', lambda: workers_ready(WORKERS), 900)
    check('%d workers passed their self-test' % WORKERS, ready,
          journal()[-3000:])
    print('   ready at', elapsed())

    step('cgroup v2 in use: the pool in a leaf, controllers delegated')
    log = journal()
    m = re.search(r'limits: (.*)', log)
    print('   limits:', m.group(1) if m else '?')
    check('worker logs cgroup v2', m is not None and
          m.group(1).startswith('cgroup v2'), log[-2000:])
    check('Delegate= gives memory and pids',
          {'memory', 'pids'} <= set(read(SVC + '/cgroup.controllers').split()))
    check('memory and pids enabled for the runs',
          {'memory', 'pids'} <= set(
              read(SVC + '/cgroup.subtree_control').split()))
    check('no process in the delegated root (no internal processes)',
          read(SVC + '/cgroup.procs') == '', read(SVC + '/cgroup.procs'))
    pool = read(SVC + '/pool/cgroup.procs').split()
    check('multiwatch and the workers are in pool/', len(pool) >= WORKERS + 1,
          pool)
    check('no run cgroup between runs', run_cgroups() == [], run_cgroups())

    step('a memory bomb over 4 processes is killed at memory_limit_mb; '
         'concurrent runs succeed')
    results = {}

    def go(name, code):
        results[name] = execute(code, key)
    threads = [threading.Thread(target=go, args=('bomb', HOLD_TOGETHER))]
    threads += [threading.Thread(target=go, args=(
        'sum%d' % i, 'print(sum(range(%d)))' % (10 ** 6 + i)))
        for i in range(2)]
    threads += [threading.Thread(target=go, args=(
        'numpy', 'import numpy\nprint(int(numpy.arange(1000).sum()))'))]
    t = time.monotonic()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    print('   took %.1fs' % (time.monotonic() - t))
    st, d = results['bomb']
    ed = d.get('execution_details', {})
    check('bomb: HTTP 200, oom_killed, termination memory_limit',
          st == 200 and ed.get('oom_killed') is True and
          ed.get('termination') == 'memory_limit', (st, d))
    print('   bomb: termination %s, signal %s, max_rss_kb %s' % (
        ed.get('termination'), ed.get('signal'), ed.get('max_rss_kb')))
    check('bomb: peak near the cap, not above it',
          isinstance(ed.get('max_rss_kb'), int) and
          ed['max_rss_kb'] <= MEM_MB * 1024, ed.get('max_rss_kb'))
    for i in range(2):
        st, d = results['sum%d' % i]
        n = 10 ** 6 + i
        want = '%d\n' % (n * (n - 1) // 2)
        ed = d.get('execution_details', {})
        check('concurrent run %d answered correctly' % i, st == 200 and
              ed.get('stdout') == want and ed.get('oom_killed') is False,
              (st, d))
    st, d = results['numpy']
    check('concurrent numpy run answered correctly', st == 200 and
          d.get('execution_details', {}).get('stdout') == '499500\n', (st, d))
    check('nothing of the runs left in the cgroup tree', run_cgroups() == [],
          run_cgroups())

    step('/evaluate: a case killed at memory_limit_mb fails alone, the '
         'cases after it in its lane run')
    # In zygote mode a lane's cases share its cgroup with its case server;
    # memory.oom.group kills that whole group, server included, and the
    # lane starts another for its next case.
    body = {'code': HOLD_TOGETHER.replace('print(hold_together(4, 64))\n',
                                          '') +
            'import time\n'
            'def f(k):\n'
            '    if k:\n        return hold_together(4, 64)\n'
            '    time.sleep(0.5)\n'
            '    return 7\n',
            'entry_point': 'f',
            # Enough slower cases after the bomb that its lane, once the
            # bomb is done, still finds some to run.
            'cases': [{'args': [k], 'expected': 7} for k in KINDS]}
    st, d = api('POST', '/evaluate', body, key)
    cr = d.get('case_results', []) if isinstance(d, dict) else []
    print('   cases:', [(c.get('passed'), c.get('termination'))
                        for c in cr][:3], '...')
    check('/evaluate: HTTP 200, every case answered', st == 200 and
          len(cr) == len(KINDS), (st, d))
    check('/evaluate: the memory bomb failed at its limit, every other '
          'case passed', [c.get('passed') for c in cr] ==
          [k == 0 for k in KINDS] and
          cr[0].get('termination') == 'memory_limit', cr)
    check('/evaluate: a lane\'s server replaced after its group was killed',
          'case server is gone; starting another' in journal(),
          journal()[-2000:])
    check('nothing of the cases left in the cgroup tree', run_cgroups() == [],
          run_cgroups())

    step('a fork bomb is stopped at pids.max')
    results.clear()
    th = threading.Thread(target=go, args=('fork', FORK_BOMB))
    th.start()
    live = {}

    def saw_full_run():
        for c in run_cgroups():
            cur = int(read(c + '/pids.current'))
            live.update(path=c, current=cur, max=read(c + '/pids.max'),
                        mem=read(c + '/memory.max'),
                        swap=read(c + '/memory.swap.max'),
                        group=read(c + '/memory.oom.group'),
                        events=read(c + '/pids.events'))
            if cur >= MAX_PROCS + 1:
                return True
        return False
    wait_for('the fork bomb to fill its cgroup', saw_full_run, 120)
    th.join()
    print('   live run cgroup:', live)
    check('run cgroup: memory.max, memory.swap.max 0, memory.oom.group 1, '
          'pids.max', live.get('mem') == str(MEM_MB << 20) and
          live.get('swap') == '0' and live.get('group') == '1' and
          live.get('max') == str(MAX_PROCS + 1), live)
    check('the run held pids.max processes', live.get('current') ==
          MAX_PROCS + 1, live)
    st, d = results['fork']
    ed = d.get('execution_details', {})
    check('fork bomb: the next fork failed with EAGAIN after %d children' %
          (MAX_PROCS - 1), st == 200 and
          ed.get('stdout') == 'forked %d 11\n' % (MAX_PROCS - 1), (st, d))
    check('the kernel refused the forks through pids.max',
          re.search(r'pids\.max refused [1-9]', journal()) is not None,
          'no "pids.max refused" in the journal')
    check('nothing of the run left in the cgroup tree', run_cgroups() == [],
          run_cgroups())

    step('sessions: a cgroup per family, a CPU cgroup per session, a '
         "fork's budget its own")
    sessions(key)

    step('a worker SIGKILLed mid-run leaves no cgroup behind')
    results.clear()
    th = threading.Thread(target=go, args=(
        'victim', 'import time\nprint("started", flush=True)\n'
        'time.sleep(60)\n'))
    th.start()
    wait_for('the run to start', lambda: run_cgroups() != [], 120)
    runs = run_cgroups()
    victim = int(os.path.basename(runs[0]).split('.')[1]) if runs else 0
    if check('a run cgroup named after its worker', victim > 0, runs):
        os.kill(victim, 9)
    th.join()
    print('   the client got HTTP', results['victim'][0])
    check('the killed worker\'s run cgroup is removed',
          wait_for('no run cgroup', lambda: run_cgroups() == [], 120),
          run_cgroups())

    step('systemctl restart pyexec during a run leaves no cgroup behind')
    results.clear()
    th = threading.Thread(target=go, args=(
        'restart', 'import time\ntime.sleep(3)\nprint("slept")\n'))
    th.start()
    wait_for('the run to start', lambda: run_cgroups() != [], 120)
    sh('systemctl restart pyexec')
    th.join()
    st, d = results['restart']
    check('the run in flight finished', st == 200 and
          d.get('execution_details', {}).get('stdout') == 'slept\n', (st, d))
    check('workers ready again', wait_for(
        'workers ready', lambda: workers_ready(WORKERS), 900))
    check('no run cgroup after the restart', run_cgroups() == [],
          run_cgroups())
    check('the new pool is in pool/ again', read(SVC + '/cgroup.procs') == ''
          and len(read(SVC + '/pool/cgroup.procs').split()) >= WORKERS + 1)
    st, d = execute('print(6 * 7)', key)
    check('serving after the restart', st == 200 and
          d.get('execution_details', {}).get('stdout') == '42\n', (st, d))

    step('systemd-analyze security pyexec.service')
    out = sh('systemd-analyze security --no-pager pyexec.service 2>&1', False)
    m = re.search(r'Overall exposure level for pyexec.service: ([0-9.]+)', out)
    print('   exposure:', m.group(1) if m else '?')
    with open(SHARE + '/security.txt', 'w') as f:
        f.write(out)

    step('apt purge pyexec leaves no cgroup behind')
    sh('DEBIAN_FRONTEND=noninteractive apt-get purge -y -q pyexec 2>&1')
    check('the service cgroup is gone', not os.path.exists(SVC),
          sh('find %s 2>&1' % SVC, False))
    check('no process of the pyexec user',
          sh('pgrep -u pyexec', False).strip() == '')


if __name__ == '__main__':
    try:
        main()
    except Exception as e:      # report, never hang the VM
        check('the test ran to its end', False, repr(e))
    print('%d checks failed: %s' % (len(failures), failures))
    print('vm-test: %s (%s in the guest)' % (
        'FAIL' if failures else 'PASS', elapsed()), flush=True)
    sys.exit(1 if failures else 0)
