"""sessions.py: seed 003's own benchmark (test_concurrent.py at bdd92ee),
reproduced against pyexec's sessions through the real stack.

As seeds-behaviour.md section 3 describes it: 25 simulated users run
concurrently, each sending 100 stateful requests strictly in sequence to
its own session, one scenario per user picked uniformly at random:
simple_arithmetic (`x = B`, then `x += k; print(x)` checked against the
running total), list_manipulation (`my_list = [...]`, then
`my_list.append(k); print(sum(my_list))`), numpy_array (i mod 3: init,
`arr = arr * m; print(np.sum(arr))`, `print(np.mean(arr))`). A non-200 is a
failure; a 200 on an init step is verified; otherwise float(stdout.strip())
must be math.isclose(rel_tol=1e-9) to the expected value. After its 100
requests each user releases its session (DELETE /sessions/{id}), inside
the timed window but not recorded. RPS = recorded requests / the whole
window; latency over verified successes; P95 = element int(0.95 n) of the
sorted list (the max if n <= 20), plus p50 and p99.

Differences, forced by the API: each user's session is created by
POST /sessions at its start (inside the window, like seed 003's cold
starts, but timed and reported separately and not counted among the
requests); HTTPS keep-alive with one connection per user instead of
httpx's shared pool.

The users are driven by bench/sessload.c (one thread and connection per
user, OpenSSL; compiled on first use, needs libssl-dev) or, with
--client python or without a C compiler and libssl-dev, by Python
threads with http.client. On a 2-core machine the load generator shares
the cores with the service: the Python one spends about 1 ms of CPU per
request under one interpreter lock, so the users also queue behind each
other inside it and part of the latency it measures is its own. The
report gives the load generator's own CPU per request, and the latency
of the requests sent after the last session creation ended (steady
state: seed 003 asks for cold start and steady state apart) next to
that of all of them.

Also measured in the same run: CPU per request of the service alone
(machine-wide busy time minus this process's own CPU, divided by
requests), the same for a one-shot hello-world /execute (25 threads,
keep-alive), their ratio, and the memory of idle sessions (PSS of every
process of each session from smaps_rollup, N idle sessions; their private
memory; and the PSS they add to the whole service, per session).

    python3 bench/sessions.py [--users 25] [--requests 100] [--idle 100]
                              [--modes zygote,exec] [--seed 1]
                              [--client c|python] [--starts N] [--together]
"""
import argparse
import contextlib
import http.client
import json
import math
import os
import random
import re
import resource
import secrets
import shutil
import ssl
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'tests', 'harness'))
import stack  # noqa: E402


class StackCpu:
    """CPU of the service alone: every process of the stack (nginx, the
    pool, zygotes, keepers, jails) moved into a cgroup v1 cpuacct group of
    its own, which their children inherit; the machine is shared with
    other work, so machine-wide busy time would count that too. Without
    cpuacct: machine-wide busy time minus this process's CPU."""

    def __init__(self, st):
        self.dir = None
        base = '/sys/fs/cgroup/cpuacct'
        if os.path.isdir(base):
            self.dir = os.path.join(base, 'pyexec-bench-%d' % os.getpid())
            os.makedirs(self.dir, exist_ok=True)
            roots = {p.pid for p in st.procs if getattr(p, 'pid', None)}
            for pid in descendants(roots):
                try:
                    with open(os.path.join(self.dir, 'cgroup.procs'), 'w') as f:
                        f.write(str(pid))
                except OSError:
                    pass

    def seconds(self):
        if self.dir:
            with open(os.path.join(self.dir, 'cpuacct.usage')) as f:
                return int(f.read()) / 1e9
        with open('/proc/stat') as f:
            v = [int(x) for x in f.readline().split()[1:]]
        return (sum(v) - v[3] - v[4]) / os.sysconf('SC_CLK_TCK') - own_cpu()

    def close(self):
        # After the stack has stopped: the group is busy while any of its
        # processes lives, and they take a moment to go.
        for _ in range(50):
            if not self.dir:
                return
            try:
                os.rmdir(self.dir)
                self.dir = None
            except FileNotFoundError:
                self.dir = None
            except OSError:
                time.sleep(0.1)


def descendants(roots):
    kids = {}
    for p in os.listdir('/proc'):
        if p.isdigit():
            try:
                with open('/proc/%s/stat' % p) as f:
                    pp = int(f.read().rsplit(')', 1)[1].split()[1])
                kids.setdefault(pp, []).append(int(p))
            except (OSError, ValueError, IndexError):
                pass
    out, todo = [], list(roots)
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def own_cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


class Conn:
    def __init__(self, st):
        ctx = ssl.create_default_context(cafile=st.cert)
        self.c = http.client.HTTPSConnection(st.host, st.port, context=ctx,
                                             timeout=45)
        self.key = st.admin_key

    def call(self, method, path, payload=None):
        body = None
        h = {}
        if payload is not None:
            payload = dict(payload, api_key=self.key)
            body = json.dumps(payload).encode()
            h['Content-Type'] = 'application/json'
        self.c.request(method, path, body=body, headers=h)
        r = self.c.getresponse()
        data = r.read()
        try:
            return r.status, json.loads(data)
        except ValueError:
            return r.status, None


def user(st, rng, out, t0):
    scen = rng.choice(['simple_arithmetic', 'list_manipulation', 'numpy_array'])
    c = Conn(st)
    t0 = time.monotonic()
    status, doc = c.call('POST', '/sessions', {})
    out['create'] = time.monotonic() - t0
    if status != 201:
        out['create_failed'] = (status, doc)
        return
    sid = doc['session_id']
    recs = []
    total = 0
    lst = []
    arr = None
    for i in range(out['n']):
        expect = None
        if scen == 'simple_arithmetic':
            if i == 0:
                total = rng.randint(1000, 9999)
                code = 'x = %d' % total
            else:
                k = rng.randint(100, 999)
                total += k
                code = 'x += %d; print(x)' % k
                expect = total
        elif scen == 'list_manipulation':
            if i == 0:
                lst = rng.sample(range(10, 100), rng.randint(2, 4))
                code = 'my_list = %r' % lst
            else:
                k = rng.randint(100, 199)
                lst.append(k)
                code = 'my_list.append(%d); print(sum(my_list))' % k
                expect = sum(lst)
        else:
            ph = i % 3
            if ph == 0:
                arr = [rng.randint(10, 50) for _ in range(3)]
                code = 'import numpy as np; arr = np.array(%r)' % arr
            elif ph == 1:
                m = rng.randint(2, 5)
                arr = [a * m for a in arr]
                code = 'arr = arr * %d; print(np.sum(arr))' % m
                expect = sum(arr)
            else:
                code = 'print(np.mean(arr))'
                expect = sum(arr) / 3
        t = time.monotonic()
        try:
            status, doc = c.call('POST', '/sessions/%s/execute' % sid,
                                 {'code': code})
        except Exception as e:     # noqa: BLE001 -- counted as a failure
            status, doc = 0, None
            c = Conn(st)
        dt = time.monotonic() - t
        verified = False
        if status == 200:
            if expect is None:
                verified = True
            else:
                try:
                    got = float(doc['execution_details']['stdout'].strip())
                    verified = math.isclose(got, expect, rel_tol=1e-9)
                except (ValueError, KeyError, TypeError):
                    verified = False
        recs.append((status, verified, dt, t - t0))
    out['recs'] = recs
    try:
        c.call('DELETE', '/sessions/%s' % sid)
    except Exception:     # noqa: BLE001 -- not recorded, as in seed 003
        pass


def build_sessload():
    """bench/sessload.c compiled once into /tmp; None when it cannot be."""
    src = os.path.join(HERE, 'sessload.c')
    out = '/tmp/pyexec-sessload-%d' % int(os.stat(src).st_mtime)
    if os.path.exists(out):
        return out
    cc = shutil.which('cc') or shutil.which('gcc')
    if cc is None:
        return None
    p = subprocess.run([cc, '-O2', '-pthread', src, '-o', out + '.tmp',
                        '-lssl', '-lcrypto', '-ljson-c', '-lm'],
                       capture_output=True, text=True)
    if p.returncode != 0:
        sys.stderr.write('sessions.py: cannot build sessload.c (%s); '
                         'using the Python client\n' % p.stderr.strip()[:300])
        return None
    os.rename(out + '.tmp', out)
    return out


def run_sessload(exe, st, args, outs):
    """The users in C; fills outs like user() does. Returns the
    generator's CPU seconds."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    p = subprocess.run([exe, st.host, str(st.port), st.cert, st.admin_key,
                        str(args.users), str(args.requests), str(args.seed)]
                       + (['together'] if args.together else []),
                       capture_output=True, text=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        raise SystemExit('sessload failed: %s' % p.stderr)
    for line in p.stdout.splitlines():
        f = line.split()
        if f[0] == 'create':
            outs[int(f[1])]['create'] = float(f[2])
        elif f[0] == 'create_failed':
            outs[int(f[1])]['create_failed'] = (int(f[2]), None)
        elif f[0] == 'rec':
            outs[int(f[1])].setdefault('recs', []).append(
                (int(f[2]), f[3] == '1', float(f[4]), float(f[5])))
    return (after.ru_utime + after.ru_stime) - \
        (before.ru_utime + before.ru_stime)


def pct(xs, p):
    xs = sorted(xs)
    if not xs:
        return float('nan')
    return xs[min(len(xs) - 1, int(p * len(xs)))]


def seed_p95(xs):
    xs = sorted(xs)
    if len(xs) <= 20:
        return xs[-1]
    return xs[int(0.95 * len(xs))]


def hello_cpu(st, cpu, users, per_user):
    """CPU per one-shot hello-world /execute, same method, same stack."""
    def run(n):
        c = Conn(st)
        for _ in range(n):
            c.call('POST', '/execute', {'code': 'print("hello")'})
    threads = [threading.Thread(target=run, args=(per_user,))
               for _ in range(users)]
    c0, t0 = cpu.seconds(), time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    c1, t1 = cpu.seconds(), time.monotonic()
    n = users * per_user
    return (c1 - c0) * 1000 / n, n / (t1 - t0)


def rollup_kb(pid, field):
    try:
        with open('/proc/%d/smaps_rollup' % pid) as f:
            m = re.search(r'^%s:\s+(\d+) kB' % field, f.read(), re.M)
            return int(m.group(1)) if m else 0
    except OSError:
        return 0


def pss_kb(pid):
    return rollup_kb(pid, 'Pss')


def private_kb(pid):
    return rollup_kb(pid, 'Private_Clean') + rollup_kb(pid, 'Private_Dirty')


def service_pids(extra):
    """The service user's processes (multiwatch, workers, zygotes, keepers)
    and extra (the jails' processes, which run as other uids)."""
    import pwd
    uid = pwd.getpwnam(stack.SERVICE_USER).pw_uid
    out = set(extra)
    for p in os.listdir('/proc'):
        try:
            if p.isdigit() and os.stat('/proc/' + p).st_uid == uid:
                out.add(int(p))
        except OSError:
            pass
    return out


def session_pids(st):
    """Every process of this stack's sessions: keepers (which hold a file
    of runtime_dir), their children (init) and grandchildren (Python)."""
    rd = st.config['runtime_dir'] + '/'
    kids = {}
    keepers = []
    for p in os.listdir('/proc'):
        if not p.isdigit():
            continue
        try:
            with open('/proc/%s/status' % p) as f:
                pp = int(re.search(r'^PPid:\t(\d+)', f.read(), re.M).group(1))
            kids.setdefault(pp, []).append(int(p))
            links = [os.readlink('/proc/%s/fd/%s' % (p, fd))
                     for fd in os.listdir('/proc/%s/fd' % p)]
        except (OSError, AttributeError):
            continue
        if any(l.startswith(rd + 'slot.') for l in links):
            keepers.append(int(p))
    # A keeper holds a slot of ours and is the parent of a jail's init
    # (workers hold cached slot files too, but their jails are short).
    def is_init(pid):
        try:
            with open('/proc/%d/status' % pid) as f:
                m = re.search(r'^NSpid:\t(.*)$', f.read(), re.M)
            return bool(m) and m.group(1).split()[-1] == '1' and \
                len(m.group(1).split()) > 1
        except OSError:
            return False
    keepers = [k for k in keepers if any(is_init(i) for i in kids.get(k, []))]
    out = []
    for k in keepers:
        out.append(k)
        for i in kids.get(k, []):
            out.append(i)
            out.extend(kids.get(i, []))
    return keepers, out


def idle_memory(st, n):
    """PSS of the idle sessions' own processes, per session; and what they
    cost the machine: the PSS of everything of the service (pool, zygotes,
    keepers, jails) with the sessions, minus the same without them, per
    session. The first gives each session its share of the pages it
    shares with its zygote, which exist whether sessions do or not: with
    W workers there are W zygotes, and the shares grow with W."""
    c = Conn(st)
    time.sleep(2)
    before = sum(pss_kb(p) for p in service_pids(session_pids(st)[1]))
    sids = []
    for _ in range(n):
        status, doc = c.call('POST', '/sessions', {})
        if status != 201:
            print('idle sessions: creation stopped at %d: %s %s'
                  % (len(sids), status, doc), file=sys.stderr)
            break
        sid = doc['session_id']
        c.call('POST', '/sessions/%s/execute' % sid, {'code': 'x = 1'})
        sids.append(sid)
    time.sleep(2)
    keepers, pids = session_pids(st)
    total = sum(pss_kb(p) for p in pids)
    private = sum(private_kb(p) for p in pids)
    after = sum(pss_kb(p) for p in service_pids(pids))
    for sid in sids:
        c.call('DELETE', '/sessions/%s' % sid)
    return len(sids), len(keepers), len(pids), total, private, after - before


def bench_mode(mode, args):
    cfg = {'mode': mode, 'max_concurrent': 64, 'max_sessions':
           max(args.users, args.idle) + 4, 'rate_limit_per_minute': 1000000,
           'daily_quota': 100000000}
    if args.starts is not None:
        cfg['max_session_starts'] = args.starts
    res = {'mode': mode, 'starts': args.starts, 'together': args.together}
    cpus = []
    with contextlib.ExitStack() as after_stop:
        # The CPU group goes once the stack's processes have (ExitStack
        # runs this after the inner with has stopped the stack).
        after_stop.callback(lambda: [c.close() for c in cpus])
        with stack.Stack(config=cfg, workers=args.users + 2, flood_rate=100000,
                         flood_burst=100000, conn_limit=1000,
                         admin_key=secrets.token_hex(24)) as st:
            # Every worker past its start-up (zygote, self-test) before measuring.
            deadline = time.monotonic() + 600
            while st.ready_workers() < args.users + 2 and time.monotonic() < deadline:
                time.sleep(1)
            cpu = StackCpu(st)
            cpus.append(cpu)
            # Warm every worker (and its zygote) first.
            hello_cpu(st, cpu, args.users, 4)
            rng = random.Random(args.seed)
            outs = [{'n': args.requests} for _ in range(args.users)]
            rngs = [random.Random(rng.random()) for _ in range(args.users)]
            exe = build_sessload() if args.client == 'c' else None
            if args.together and not exe:
                raise SystemExit('--together needs the C client')
            res['client'] = 'c' if exe else 'python'
            if exe:
                c0, t0 = cpu.seconds(), time.monotonic()
                gen_cpu = run_sessload(exe, st, args, outs)
                c1, t1 = cpu.seconds(), time.monotonic()
            else:
                g0 = own_cpu()
                c0, t0 = cpu.seconds(), time.monotonic()
                threads = [threading.Thread(target=user,
                                            args=(st, rngs[i], outs[i], t0))
                           for i in range(args.users)]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
                c1, t1 = cpu.seconds(), time.monotonic()
                gen_cpu = own_cpu() - g0
            recs = [r for o in outs for r in o.get('recs', [])]
            n = len(recs)
            ok = [r for r in recs if r[0] == 200]
            ver = [r for r in ok if r[1]]
            lat = [r[2] for r in ver]
            creates = [o['create'] for o in outs if 'create' in o]
            # Steady state: requests sent after the last creation returned.
            # Each user's creation is its first call, from the window's start.
            last_create = max(creates) if creates else 0.0
            steady = [r[2] for r in ver if r[3] >= last_create]
            # CPU per request: creations and releases are in the window, so
            # count them as requests too (the conservative side for sessions).
            ncalls = n + 2 * len(creates)
            res.update({
                'requests': n, 'duration_s': t1 - t0, 'rps': n / (t1 - t0),
                'success_pct': 100.0 * len(ok) / max(n, 1),
                'verified_pct': 100.0 * len(ver) / max(len(ok), 1),
                'p50_ms': pct(lat, 0.50) * 1e3, 'p95_ms': seed_p95(lat) * 1e3,
                'p99_ms': pct(lat, 0.99) * 1e3, 'mean_ms': sum(lat) / max(len(lat), 1) * 1e3,
                # Requests in flight on average while any was (Little's
                # law): how much the users' requests overlapped.
                'in_flight_mean': sum(r[2] for r in recs) / max(
                    max((r[3] + r[2] for r in recs), default=0) -
                    min((r[3] for r in recs), default=0), 1e-9),
                'steady_requests': len(steady),
                'steady_p50_ms': pct(steady, 0.50) * 1e3,
                'steady_p95_ms': (seed_p95(steady) if steady else float('nan')) * 1e3,
                'client_cpu_ms_per_req': gen_cpu * 1000 / max(ncalls, 1),
                'create_p50_ms': pct(creates, 0.5) * 1e3,
                'create_max_ms': max(creates) * 1e3 if creates else float('nan'),
                'create_failed': [o['create_failed'] for o in outs if 'create_failed' in o],
                'cpu_ms_per_req': (c1 - c0) * 1000 / max(ncalls, 1),
            })
            hc, hrps = hello_cpu(st, cpu, args.users, 20)
            res['hello_cpu_ms'] = hc
            res['hello_rps'] = hrps
            res['cpu_ratio'] = res['cpu_ms_per_req'] / hc
            if args.idle:
                made, keepers, procs, total, private, added = idle_memory(
                    st, args.idle)
                per = 1024.0 * max(made, 1)
                res.update({'idle_sessions': made, 'idle_keepers': keepers,
                            'idle_procs': procs, 'workers': args.users + 2,
                            'idle_pss_mib_per_session': total / per,
                            'idle_private_mib_per_session': private / per,
                            'idle_added_pss_mib_per_session': added / per})
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--users', type=int, default=25)
    ap.add_argument('--requests', type=int, default=100)
    ap.add_argument('--idle', type=int, default=100)
    ap.add_argument('--modes', default='zygote')
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--client', choices=['c', 'python'], default='c')
    ap.add_argument('--together', action='store_true',
                    help='C client: the users start their requests once '
                    'every session is made (all live at once)')
    ap.add_argument('--starts', type=int, default=None,
                    help='max_session_starts (default: the service\'s, '
                    'one per CPU; 64: creations are not held back)')
    args = ap.parse_args()
    rows = [bench_mode(m, args) for m in args.modes.split(',')]
    for r in rows:
        print(json.dumps(r, indent=1))
    print()
    print('| mode | client | starts | req/s | p50 ms | p95 ms | p99 ms | in flight | '
          'steady p50, p95 ms | '
          'verified | create p50 ms | '
          'CPU ms/req | client CPU ms/req | hello CPU ms | ratio | idle PSS MiB/session | '
          'idle: private, added to the service MiB/session |')
    print('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|')
    for r in rows:
        print('| %s | %s | %s | %.1f | %.2f | %.2f | %.2f | %.1f | %.2f, %.2f (%d) | %.1f %% | %.1f | %.2f | %.2f | %.2f | %.2f | %s | %s |' % (
            r['mode'], r['client'] + (' together' if r.get('together') else ''),
            'default' if r['starts'] is None else r['starts'],
            r['rps'], r['p50_ms'], r['p95_ms'], r['p99_ms'], r['in_flight_mean'],
            r['steady_p50_ms'], r['steady_p95_ms'], r['steady_requests'],
            r['verified_pct'], r['create_p50_ms'], r['cpu_ms_per_req'],
            r['client_cpu_ms_per_req'],
            r['hello_cpu_ms'], r['cpu_ratio'],
            '%.2f (%d sessions, %d workers)' % (
                r['idle_pss_mib_per_session'], r['idle_sessions'],
                r['workers']) if 'idle_sessions' in r else '-',
            '%.2f, %.2f' % (r['idle_private_mib_per_session'],
                            r['idle_added_pss_mib_per_session'])
            if 'idle_sessions' in r else '-'))


if __name__ == '__main__':
    main()
