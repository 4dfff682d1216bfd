"""evaluate.py: the grader's throughput through the real stack.

One POST /evaluate with N cases against the same N cases sent as N
separate POST /execute calls (each printing the entry point's result), in
the same run, for a trivial function and a numpy-using one, in each mode.
The separate calls go one at a time and, as a client could do, max_concurrent
at once. Admin key, so that rate limits do not count. Prints cases/s.

    python3 bench/evaluate.py [--cases 100] [--modes zygote,exec] [--repeat 3]
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
    ap.add_argument('--modes', default='zygote,exec')
    ap.add_argument('--repeat', type=int, default=3)
    args = ap.parse_args()
    n = args.cases
    rows = []
    for mode in args.modes.split(','):
        with stack.Stack(config={'mode': mode}, workers=8,
                         admin_key=secrets.token_hex(24)) as st:
            conc = 5        # max_concurrent's default
            for name in SUBMISSIONS:
                one_evaluate(st, name, 10)          # warm workers, zygotes
                separate(st, name, 10, conc)
                ev = min(one_evaluate(st, name, n)
                         for _ in range(args.repeat))
                s1 = min(separate(st, name, n, 1)
                         for _ in range(args.repeat))
                sc = min(separate(st, name, n, conc)
                         for _ in range(args.repeat))
                rows.append((mode, name, n / ev, n / s1, n / sc))
                print('%-6s %-8s /evaluate %6.1f cases/s   /execute x%d: '
                      'sequential %6.1f/s, %d at once %6.1f/s   ratio %.1fx'
                      % (mode, name, n / ev, n, n / s1, conc, n / sc,
                         (n / ev) / (n / sc)), flush=True)
    print()
    print('| mode | submission | /evaluate cases/s | %d x /execute, '
          'sequential | %d x /execute, 5 at once | /evaluate vs 5 at once |'
          % (n, n))
    print('|---|---|---|---|---|---|')
    for mode, name, ev, s1, sc in rows:
        print('| %s | %s | %.1f | %.1f | %.1f | %.1fx |' % (
            mode, name, ev, s1, sc, ev / sc))


if __name__ == '__main__':
    main()
