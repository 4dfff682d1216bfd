"""runcost.py: what one request costs, process by process, against floors.

For each scenario (hello world, numpy, --scenarios output: 400 kB of
output) and concurrency, wrk drives POST
/execute through the real stack (nginx over HTTPS with keep-alive, the
spawn-fcgi/multiwatch pool, the sandbox) on loopback, and the benchmark
reads /proc/<pid>/stat of every process of the stack before and after:
minor and major page faults and CPU time (user + system) of

  nginx    the master and its workers
  worker   the pyexec-fcgi workers themselves
  jail     every process of the runs: the jail's init and Python and what
           the script started, which the worker reaps (init reaps the rest),
           so the kernel adds them to the worker's children's counters
           (cminflt, cutime, ...)
  zygote   the pyexec-zygote processes (zygote mode)
  other    multiwatch, pyexec-uidmap

divided by the requests wrk completed. Zygotes are not recycled during a
cell (zygote_max_runs is raised), so no zygote's lifetime lands in its
worker's children's counters. The same run measures the floors: a bare
fork (+ _exit + wait) of this small Python process, `python3 -I -S -c
pass` and `python3 -I -c "import numpy"` (fork + exec + wait), with
their faults, CPU and wall time, and prints each scenario's ratios to
them.

Then requests as they arrive at an idle service (--arrivals N, one at a
time, --pause seconds apart, over one keep-alive HTTPS connection): the
latency of each, with prebuilt_jails = 1 (an idle worker has built the
next jail already: supervise.c, struct spare) and = 0 (each jail built
for its request), two stacks in the same run, with faults and CPU per
request of the whole stack (the pre-built jails' building included),
and the ratio of the p50 to the wall time of `python3 -I -S -c pass`.
With --flask-peer DIR, the same scenarios against the peer in DIR
(seed 002, ../shared/peers/seed002: Flask + gunicorn -w 4, a fresh
`python` per request; plain HTTP, no sandbox), counted the same way
(gunicorn's workers reap the per-request pythons).

    python3 bench/runcost.py [--seconds 10] [--modes zygote] [--conc 1,4]
                             [--scenarios hello,numpy] [--flask-peer DIR]
                             [--arrivals 40] [--pause 0.25]

As root, after ./dev.sh build. Needs wrk; --flask-peer needs Debian's
python3-flask, python3-flask-cors and gunicorn.
"""
import argparse
import json
import os
import pwd
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'tests', 'harness'))
import procfs  # noqa: E402
import stack  # noqa: E402

SCENARIOS = {
    'hello': {'code': 'print("hello")'},
    'numpy': {'code': 'import numpy as np\nprint(int(np.arange(1000).sum()))'},
    # 400 kB of output: what the worker does with output bytes (read from
    # the pipe, escaped into the reply once: src/http/fcgi.c) shows in its
    # faults and CPU; the reply still goes out in one write
    'output': {'code': 'import sys\nsys.stdout.write("x" * 400000)'},
}
ROLES = ('nginx', 'worker', 'jail', 'zygote', 'other')
HZ = os.sysconf('SC_CLK_TCK')
FIELDS = ('minflt', 'majflt', 'cpu')


def proc_stat(pid):
    """(comm, ppid, starttime, {self}, {children}) or None if gone."""
    st = procfs.stat_or_none(pid)
    if st is None:
        return None
    own = {'minflt': st.minflt, 'majflt': st.majflt,
           'cpu': (st.utime + st.stime) / HZ}
    kids = {'minflt': st.cminflt, 'majflt': st.cmajflt,
            'cpu': (st.cutime + st.cstime) / HZ}
    return st.comm, st.ppid, st.starttime, own, kids


def role_of(comm):
    if comm.startswith('nginx'):
        return 'nginx'
    if comm == 'pyexec-fcgi':
        return 'worker'
    if comm == 'pyexec-zygote':
        return 'zygote'
    if comm in ('multiwatch', 'spawn-fcgi', 'pyexec-uidmap'):
        return 'other'
    return None     # a jail or a python run in flight: counted when reaped


def gunicorn_roles(roots):
    """seed 002: gunicorn's master is 'other', its workers 'worker' (they
    reap the per-request pythons); the pythons themselves are counted
    when reaped."""
    def role(comm, pid, ppid):
        return 'other' if pid in roots else 'worker' if ppid in roots else None
    return role


def snapshot(roots, roles=None):
    """{(pid, start): (role, own, kids)} for the processes under roots."""
    stats = {}
    for d in os.listdir('/proc'):
        if d.isdigit():
            st = proc_stat(int(d))
            if st is not None:
                stats[int(d)] = st
    keep = set(r for r in roots if r in stats)
    grew = True
    while grew:
        grew = False
        for pid, st in stats.items():
            if pid not in keep and st[1] in keep:
                keep.add(pid)
                grew = True
    out = {}
    for pid in keep:
        comm, ppid, start, own, kids = stats[pid]
        role = roles(comm, pid, ppid) if roles else role_of(comm)
        if role is not None:
            out[(pid, start)] = (role, own, kids)
    return out


def delta(before, after):
    """Per role: faults and CPU seconds between two snapshots. A worker's
    children's counters are the jail's (gunicorn's: the pythons')."""
    tot = {r: dict.fromkeys(FIELDS, 0) for r in ROLES}
    for key, (role, own, kids) in after.items():
        b = before.get(key)
        for f in FIELDS:
            tot[role][f] += own[f] - (b[1][f] if b else 0)
            if role == 'worker':
                tot['jail'][f] += kids[f] - (b[2][f] if b else 0)
    return tot


def rusage_children():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {'minflt': r.ru_minflt, 'majflt': r.ru_majflt,
            'cpu': r.ru_utime + r.ru_stime}


def rusage_self():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return {'minflt': r.ru_minflt, 'majflt': r.ru_majflt,
            'cpu': r.ru_utime + r.ru_stime}


def floor_cmd(argv, runs):
    """fork + exec + wait of argv, runs times: per run faults, CPU, p50."""
    walls = []
    b = rusage_children()
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(argv, stdin=subprocess.DEVNULL, check=True,
                       env={'PATH': '/usr/bin:/bin', 'LC_ALL': 'C.UTF-8'})
        walls.append(time.perf_counter() - t0)
    a = rusage_children()
    r = {f: (a[f] - b[f]) / runs for f in FIELDS}
    r['p50'] = statistics.median(walls)
    return r


def floor_fork(runs):
    """A bare fork of this process + _exit + wait: both sides' faults."""
    walls = []
    bs, bc = rusage_self(), rusage_children()
    for _ in range(runs):
        t0 = time.perf_counter()
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        os.waitpid(pid, 0)
        walls.append(time.perf_counter() - t0)
    as_, ac = rusage_self(), rusage_children()
    r = {f: (as_[f] - bs[f] + ac[f] - bc[f]) / runs for f in FIELDS}
    r['p50'] = statistics.median(walls)
    return r


def run_wrk(url, body_path, conc, seconds, roots, roles=None):
    env = dict(os.environ, PYEXEC_BODY=body_path)
    time.sleep(0.3)
    s0 = snapshot(roots, roles)
    c0 = rusage_children()
    p = subprocess.run(['wrk', '-t', '2' if conc > 1 else '1', '-c', str(conc),
                        '-d', '%ds' % seconds, '--timeout', '30s', '-s',
                        os.path.join(HERE, 'wrk.lua'), url],
                       env=env, capture_output=True, text=True)
    c1 = rusage_children()
    time.sleep(0.5)     # the last runs end and are reaped
    s1 = snapshot(roots, roles)
    line = [ln for ln in p.stdout.splitlines() if ln.startswith('RESULT ')]
    if not line:
        raise RuntimeError('wrk failed: ' + p.stdout + p.stderr)
    r = json.loads(line[0][7:])
    n = max(r['requests'], 1)
    d = delta(s0, s1)
    r['per_req'] = {role: {f: d[role][f] / n for f in FIELDS} for role in ROLES}
    r['total'] = {f: sum(d[role][f] for role in ROLES) / n for f in FIELDS}
    r['client'] = {f: (c1[f] - c0[f]) / n for f in FIELDS}
    r['rps'] = r['requests'] / r['seconds']
    r['failed'] = r['non200'] + r['socket_errors']
    return r


def arrivals(st, body, n, pause, roots):
    """n requests one at a time, pause seconds apart: latency p50 and p90,
    faults and CPU per request of the stack's processes."""
    conn = st.connection(60)
    hdrs = {'Content-Type': 'application/json'}
    st.request('POST', '/execute', body, hdrs, conn=conn)
    time.sleep(max(pause, 1.0))
    s0 = snapshot(roots)
    walls = []
    for _ in range(n):
        time.sleep(pause)
        t0 = time.perf_counter()
        status, _, _ = st.request('POST', '/execute', body, hdrs, conn=conn)
        walls.append(time.perf_counter() - t0)
        if status != 200:
            raise RuntimeError('arrivals: status %d' % status)
    time.sleep(max(pause, 1.0))     # the last pre-built jail is built
    d = delta(s0, snapshot(roots))
    conn.close()
    walls.sort()
    return {'p50': statistics.median(walls),
            'p90': walls[min(n - 1, int(0.9 * n))],
            'faults': sum(d[r]['minflt'] + d[r]['majflt'] for r in ROLES) / n,
            'cpu': sum(d[r]['cpu'] for r in ROLES) / n}


def stack_roots(st):
    roots = [p.pid for p in st.procs]
    if st.uidmap_proc is not None:
        roots.append(st.uidmap_proc.pid)
    return roots


def start_flask_peer(src, port):
    """gunicorn -w 4 on 127.0.0.1:port as the unprivileged service user,
    from a copy of seed 002 (it writes data/ next to itself); `python`
    on its PATH is Debian's python3."""
    for mod in ('flask', 'flask_cors', 'gunicorn'):
        if subprocess.run(['/usr/bin/python3', '-c', 'import ' + mod],
                          capture_output=True).returncode != 0:
            raise RuntimeError('seed 002 needs Debian package for %s' % mod)
    stack.ensure_user()
    pw = pwd.getpwnam(stack.SERVICE_USER)
    base = tempfile.mkdtemp(prefix='pyexec-flaskpeer-')
    os.chmod(base, 0o755)
    app = os.path.join(base, 'app')
    shutil.copytree(src, app)
    os.makedirs(os.path.join(base, 'bin'))
    os.symlink('/usr/bin/python3', os.path.join(base, 'bin', 'python'))
    subprocess.run(['chmod', '-R', 'u+w', app], check=True)   # a r/o copy
    subprocess.run(['chown', '-R', '%d:%d' % (pw.pw_uid, pw.pw_gid), app],
                   check=True)
    key = 'bench-' + os.urandom(8).hex()

    def drop():
        os.setgid(pw.pw_gid)
        os.setgroups([])
        os.setuid(pw.pw_uid)
    log = open(os.path.join(base, 'gunicorn.log'), 'ab')
    p = subprocess.Popen(
        ['/usr/bin/python3', '/usr/bin/gunicorn', '-w', '4', '--bind',
         '127.0.0.1:%d' % port, 'main:app'], cwd=app, stdout=log, stderr=log,
        start_new_session=True, preexec_fn=drop,
        env={'PATH': os.path.join(base, 'bin') + ':/usr/bin:/bin',
             'PYTHON_EXE_KEY': key, 'HOME': app, 'LC_ALL': 'C.UTF-8'})
    log.close()
    t0 = time.time()
    while time.time() < t0 + 60:
        try:
            socket.create_connection(('127.0.0.1', port), timeout=1).close()
            break
        except OSError:
            if p.poll() is not None:
                raise RuntimeError('gunicorn exited; see ' + base)
            time.sleep(0.2)
    time.sleep(1)       # all four workers
    return p, base, key


HEADER = ('| server | scenario | conc | req/s | p50 ms | faults by process '
          '| faults | x floor | CPU ms by process | CPU ms | x floor '
          '| p50 x floor | failed |')


def fmt_row(label, name, c, r, fl):
    f = r['total']
    return ('| %s | %s | %d | %.0f | %.2f | %s | %.0f | %.2f | %s | %.2f | %.2f | %.2f | %d |' % (
        label, name, c, r['rps'], r['p50_us'] / 1e3,
        ' / '.join('%.0f' % (r['per_req'][role]['minflt'] +
                             r['per_req'][role]['majflt']) for role in ROLES),
        f['minflt'] + f['majflt'],
        (f['minflt'] + f['majflt']) / (fl['minflt'] + fl['majflt']),
        ' / '.join('%.2f' % (r['per_req'][role]['cpu'] * 1e3) for role in ROLES),
        f['cpu'] * 1e3, f['cpu'] / fl['cpu'], r['p50_us'] / 1e6 / fl['p50'],
        r['failed']))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--seconds', type=int, default=10)
    ap.add_argument('--modes', default='zygote')
    ap.add_argument('--conc', default='1,4')
    ap.add_argument('--scenarios', default='hello,numpy')
    ap.add_argument('--floor-runs', type=int, default=200)
    ap.add_argument('--flask-peer', metavar='DIR', help="the Flask peer's "
                    'code (seed 002: ../shared/peers/seed002)')
    ap.add_argument('--json', metavar='FILE', help='also write the raw figures')
    ap.add_argument('--arrivals', type=int, default=40,
                    help='requests arriving one at a time (0: none)')
    ap.add_argument('--pause', type=float, default=0.25)
    args = ap.parse_args()
    concs = [int(c) for c in args.conc.split(',')]
    names = args.scenarios.split(',')

    floors = {
        'fork': floor_fork(args.floor_runs),
        'python3 -I -S -c pass': floor_cmd(
            ['/usr/bin/python3', '-I', '-S', '-c', 'pass'], args.floor_runs),
        'python3 -I -c "import numpy"': floor_cmd(
            ['/usr/bin/python3', '-I', '-c', 'import numpy'],
            max(args.floor_runs // 5, 10)),
    }
    for k, f in floors.items():
        print('floor %-30s %7.0f faults (%d major)  cpu %6.2f ms  p50 %6.2f ms' % (
            k, f['minflt'] + f['majflt'], f['majflt'], f['cpu'] * 1e3,
            f['p50'] * 1e3), flush=True)
    ref = floors['python3 -I -S -c pass']
    print(HEADER)

    tmp = tempfile.mkdtemp(prefix='pyexec-bench-')
    os.chmod(tmp, 0o755)
    bodies = {}
    for name in names:
        bodies[name] = os.path.join(tmp, name + '.json')
        with open(bodies[name], 'w') as f:
            json.dump(SCENARIOS[name], f)
    rows = []
    cfg = {'max_concurrent': 64, 'rate_limit_per_minute': 1000000,
           'daily_quota': 100000000, 'zygote_max_runs': 1000000,
           'zygote_max_age_seconds': 86400}
    for mode in args.modes.split(','):
        with stack.Stack(config=dict(cfg, mode=mode), workers=max(concs) + 2,
                         flood_rate=100000, flood_burst=100000) as st:
            url = 'https://127.0.0.1:%d/execute' % st.port
            for name in names:
                run_wrk(url, bodies[name], max(concs), 2, stack_roots(st))
                for c in concs:
                    r = run_wrk(url, bodies[name], c, args.seconds,
                                stack_roots(st))
                    rows.append(('pyexec ' + mode, name, c, r))
                    print(fmt_row('pyexec ' + mode, name, c, r, ref), flush=True)
    arr = []
    for pre in (1, 0) if args.arrivals else ():
        with stack.Stack(config=dict(cfg, mode='zygote', prebuilt_jails=pre),
                         workers=4) as st:
            for name in names:
                with open(bodies[name], 'rb') as f:
                    body = f.read()
                a = arrivals(st, body, args.arrivals, args.pause,
                             stack_roots(st))
                arr.append((pre, name, a))
                print('arrivals prebuilt_jails=%d %s: p50 %.2f ms p90 %.2f '
                      'ms, %.0f faults, %.2f ms CPU' % (
                          pre, name, a['p50'] * 1e3, a['p90'] * 1e3,
                          a['faults'], a['cpu'] * 1e3), flush=True)
    if args.flask_peer:
        port = stack.free_port()
        p, base, key = start_flask_peer(args.flask_peer, port)
        try:
            for name in names:
                path = os.path.join(tmp, 'peer-' + name + '.json')
                with open(path, 'w') as f:
                    json.dump(dict(SCENARIOS[name], api_key=key), f)
                url = 'http://127.0.0.1:%d/execute' % port
                run_wrk(url, path, max(concs), 2, [p.pid], gunicorn_roles([p.pid]))
                for c in concs:
                    r = run_wrk(url, path, c, args.seconds, [p.pid],
                                gunicorn_roles([p.pid]))
                    rows.append(('flask peer', name, c, r))
                    print(fmt_row('flask peer', name, c, r, ref), flush=True)
        finally:
            os.killpg(p.pid, signal.SIGTERM)
            p.wait()
            shutil.rmtree(base, ignore_errors=True)
    shutil.rmtree(tmp, ignore_errors=True)

    print()
    print('Floors, same run (fork: a bare fork + _exit + wait of this '
          'benchmark\'s Python process, both sides):')
    print()
    print('| floor | page faults | CPU ms | wall p50 ms |')
    print('|---|---|---|---|')
    for k, f in floors.items():
        print('| %s | %.0f | %.2f | %.2f |' % (k, f['minflt'] + f['majflt'],
                                              f['cpu'] * 1e3, f['p50'] * 1e3))
    print()
    print('Per request; by process: nginx / worker / jail / zygote / other '
          '(flask peer: - / gunicorn workers / per-request pythons / - / '
          'master); ratios to `python3 -I -S -c pass` of the same run:')
    print()
    print(HEADER)
    print('|---|---|---|---|---|---|---|---|---|---|---|---|---|')
    for label, name, c, r in rows:
        print(fmt_row(label, name, c, r, ref))
    if arr:
        print()
        print('Requests arriving one at a time, %.2f s apart (%d each), '
              'zygote mode; ratios to `python3 -I -S -c pass` (wall p50 '
              '%.2f ms, %.0f faults, %.2f ms CPU):' % (
                  args.pause, args.arrivals, ref['p50'] * 1e3,
                  ref['minflt'] + ref['majflt'], ref['cpu'] * 1e3))
        print()
        print('| prebuilt_jails | scenario | p50 ms | p90 ms | p50 x floor '
              '| faults/req | x floor | CPU ms/req | x floor |')
        print('|---|---|---|---|---|---|---|---|---|')
        for pre, name, a in arr:
            print('| %d | %s | %.2f | %.2f | %.2f | %.0f | %.2f | %.2f | %.2f |'
                  % (pre, name, a['p50'] * 1e3, a['p90'] * 1e3,
                     a['p50'] / ref['p50'], a['faults'],
                     a['faults'] / (ref['minflt'] + ref['majflt']),
                     a['cpu'] * 1e3, a['cpu'] / ref['cpu']))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump({'floors': floors, 'arrivals': [
                {'prebuilt_jails': p, 'scenario': n, **a}
                for p, n, a in arr], 'rows': [
                {'server': l, 'scenario': n, 'conc': c, **r}
                for l, n, c, r in rows]}, f, indent=1)


if __name__ == '__main__':
    main()
