"""evaluate.py: the grader's throughput through the real stack.

One POST /evaluate with N cases against the same N cases sent as N
separate POST /execute calls (each printing the entry point's result), in
the same run, for a trivial function and a numpy-using one, in each mode.
The separate calls go one at a time and, as a client could do, max_concurrent
at once. Admin key, so that rate limits do not count. Prints cases/s, and
for each measurement the page faults and CPU time per case of every
process of the stack (nginx, workers, jails, zygotes: bench/runcost.py's
account, /proc/<pid>/stat before and after), which do not depend on the
machine's speed as times do, next to a floor measured in the same run
(fork + exec + wait of `python3 -I -S -c pass`).

Modes: zygote (each case forked by its lane's case server, the default),
zygote-jail (forked_cases = 0: each case a jail cloned by the zygote, as
an /execute run's), exec.

    python3 bench/evaluate.py [--cases 100] [--modes zygote,zygote-jail,exec]
                              [--repeat 3] [--max-concurrent 5]
"""
import argparse
import json
import os
import secrets
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'tests', 'harness'))
import stack  # noqa: E402
import runcost  # noqa: E402

SUBMISSIONS = {
    'trivial': 'def f(x):\n    return x * 2\n',
    'numpy': ('import numpy as np\n'
              'def f(x):\n    return int(np.arange(x + 1000).sum())\n'),
}
EXPECT = {
    'trivial': lambda x: x * 2,
    'numpy': lambda x: sum(range(x + 1000)),
}


def post(st, path, body, conn=None):
    status, _, data = st.request('POST', path, json.dumps(body).encode(),
                                 {'Content-Type': 'application/json'},
                                 conn=conn, timeout=600)
    return status, json.loads(data)


def counted(st, fn, n):
    """fn() timed, with the stack's faults and CPU seconds per case."""
    roots = runcost.stack_roots(st)
    time.sleep(0.3)
    s0 = runcost.snapshot(roots)
    dt = fn()
    time.sleep(0.5)     # the last runs are reaped, spare jails built
    d = runcost.delta(s0, runcost.snapshot(roots))
    return (dt,
            sum(d[r]['minflt'] + d[r]['majflt'] for r in runcost.ROLES) / n,
            sum(d[r]['cpu'] for r in runcost.ROLES) / n)


def best(runs):
    """The fastest of the repeats, with its own counts."""
    return min(runs, key=lambda r: r[0])


def one_evaluate(st, name, n):
    body = {'code': SUBMISSIONS[name], 'entry_point': 'f',
            'api_key': st.admin_key,
            'cases': [{'args': [i], 'expected': EXPECT[name](i)}
                      for i in range(n)]}
    t0 = time.monotonic()
    status, doc = post(st, '/evaluate', body)
    dt = time.monotonic() - t0
    assert status == 200 and doc['passed'], (status, str(doc)[:2000])
    return dt


def separate(st, name, n, conc):
    todo = list(range(n))
    lock = threading.Lock()
    bad = []

    def worker():
        conn = st.connection(600)
        while True:
            with lock:
                if not todo:
                    break
                i = todo.pop()
            body = {'code': SUBMISSIONS[name] + 'print(f(%d))\n' % i,
                    'api_key': st.admin_key}
            status, doc = post(st, '/execute', body, conn)
            if status != 200 or doc['execution_details']['stdout'] != \
                    '%d\n' % EXPECT[name](i):
                bad.append((status, doc))
        conn.close()
    t0 = time.monotonic()
    ts = [threading.Thread(target=worker) for _ in range(conc)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    dt = time.monotonic() - t0
    assert not bad, bad[:2]
    return dt


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--cases', type=int, default=100)
    ap.add_argument('--modes', default='zygote,zygote-jail,exec')
    ap.add_argument('--repeat', type=int, default=3)
    ap.add_argument('--max-concurrent', type=int, default=5,
                    help='run slots: the lanes /evaluate runs cases in, '
                    'and the separate calls made at once')
    args = ap.parse_args()
    n = args.cases
    rows = []
    floor = runcost.floor_cmd(['/usr/bin/python3', '-I', '-S', '-c', 'pass'],
                              50)
    print('floor, python3 -I -S -c pass: %.0f faults, %.1f ms CPU, '
          '%.1f ms wall' % (floor['minflt'] + floor['majflt'],
                            floor['cpu'] * 1000, floor['p50'] * 1000),
          flush=True)
    for mode in args.modes.split(','):
        config = {'mode': mode.split('-')[0],
                  'forked_cases': 0 if mode.endswith('-jail') else 1,
                  'max_concurrent': args.max_concurrent}
        with stack.Stack(config=config, workers=8,
                         admin_key=secrets.token_hex(24)) as st:
            conc = args.max_concurrent
            for name in SUBMISSIONS:
                one_evaluate(st, name, 10)          # warm workers, zygotes
                separate(st, name, 10, conc)
                ev = best([counted(st, lambda: one_evaluate(st, name, n),
                                   n) for _ in range(args.repeat)])
                s1 = best([counted(st, lambda: separate(st, name, n, 1), n)
                           for _ in range(args.repeat)])
                sc = best([counted(st, lambda: separate(st, name, n, conc),
                                   n) for _ in range(args.repeat)])
                rows.append((mode, name, ev, s1, sc))
                print('%-11s %-8s /evaluate %6.1f cases/s   /execute x%d: '
                      'sequential %6.1f/s, %d at once %6.1f/s   ratio %.1fx'
                      % (mode, name, n / ev[0], n, n / s1[0], conc,
                         n / sc[0], sc[0] / ev[0]), flush=True)
    ff = floor['minflt'] + floor['majflt']
    print()
    print('cases/s, then per case: page faults (x the floor) and CPU ms '
          '(x the floor) of the whole stack')
    print('| mode | submission | /evaluate | %d x /execute, sequential | '
          '%d x /execute, %d at once | /evaluate vs sequential | '
          '/evaluate vs %d at once |' % (n, n, args.max_concurrent,
                                         args.max_concurrent))
    print('|---|---|---|---|---|---|---|')

    def cell(r):
        return '%.1f/s, %.0f faults (%.2fx), %.1f ms (%.2fx)' % (
            n / r[0], r[1], r[1] / ff, r[2] * 1000, r[2] / floor['cpu'])
    for mode, name, ev, s1, sc in rows:
        print('| %s | %s | %s | %s | %s | %.2fx | %.2fx |' % (
            mode, name, cell(ev), cell(s1), cell(sc), s1[0] / ev[0],
            sc[0] / ev[0]))


if __name__ == '__main__':
    main()
