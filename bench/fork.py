"""fork.py: the cost of POST /sessions/{id}/fork (issue 13), through the
real stack (nginx, HTTPS keep-alive, a worker, the keepers, the jail).

Measured, per mode, in one run:
  - fork latency, p50/p95 over N forks, of an empty session and of one
    holding 200 MB of numpy arrays (each child deleted before the next
    fork, outside the timing);
  - beside them, as a floor measured in the same run on the same stack:
    POST /sessions (creating a fresh session) and a trivial cell;
  - the memory of the pair (parent + child) before and after the child
    writes to all of its arrays: the family's cgroup (memory.current, as
    GET /sessions/{id} reports it) and the PSS of the two interpreters
    (each reads its own /proc/self/smaps_rollup).

    python3 bench/fork.py [--n 20] [--modes zygote,exec]     (as root)
"""
import argparse
import http.client
import json
import os
import secrets
import ssl
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'tests', 'harness'))
import stack  # noqa: E402

MB = 1 << 20


class Conn:
    def __init__(self, st):
        ctx = ssl.create_default_context(cafile=st.cert)
        self.c = http.client.HTTPSConnection(st.host, st.port, context=ctx,
                                             timeout=120)
        self.key = st.admin_key

    def call(self, method, path, payload=None):
        h = {}
        body = None
        if payload is not None or method == 'POST':
            body = json.dumps(dict(payload or {}, api_key=self.key)).encode()
            h['Content-Type'] = 'application/json'
        self.c.request(method, path, body=body, headers=h)
        r = self.c.getresponse()
        data = r.read()
        try:
            return r.status, json.loads(data)
        except ValueError:
            return r.status, data

    def timed(self, method, path, payload=None):
        t0 = time.perf_counter()
        st, doc = self.call(method, path, payload)
        return time.perf_counter() - t0, st, doc

    def cell(self, sid, code):
        st, doc = self.call('POST', '/sessions/%s/execute' % sid,
                            {'code': code})
        assert st == 200, (st, doc)
        d = doc['execution_details']
        assert d['error'] is None and d['session_alive'], d
        return d['result']


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p * len(xs)))] if xs else float('nan')


PSS = ('int([l for l in open("/proc/self/smaps_rollup") '
       'if l.startswith("Pss:")][0].split()[1]) * 1024')


def forks(c, sid, n):
    lat = []
    for _ in range(n):
        dt, st, doc = c.timed('POST', '/sessions/%s/fork' % sid)
        assert st == 201, (st, doc)
        lat.append(dt)
        c.call('DELETE', '/sessions/%s' % doc['session_id'])
    return lat


def memory(c, sid):
    st, doc = c.call('GET', '/sessions/' + sid)
    return doc.get('memory_bytes', 0)


def bench_mode(mode, n):
    cfg = {'mode': mode, 'max_sessions': 8, 'time_limit_seconds': 120,
           'session_memory_mb': 2048, 'memory_limit_mb': 2048,
           'rate_limit_per_minute': 1000000, 'daily_quota': 100000000}
    res = {'mode': mode, 'n': n}
    with stack.Stack(config=cfg, workers=2,
                     admin_key=secrets.token_hex(24)) as st:
        c = Conn(st)
        # Floors, same run: a fresh session, and a trivial cell.
        creates, cells = [], []
        for _ in range(n):
            dt, s, doc = c.timed('POST', '/sessions', {})
            assert s == 201, (s, doc)
            creates.append(dt)
            t0 = time.perf_counter()
            c.cell(doc['session_id'], '1 + 1')
            cells.append(time.perf_counter() - t0)
            c.call('DELETE', '/sessions/%s' % doc['session_id'])
        # An empty session.
        s, doc = c.call('POST', '/sessions', {})
        sid = doc['session_id']
        c.cell(sid, 'x = 1')
        empty = forks(c, sid, n)
        c.call('DELETE', '/sessions/' + sid)
        # 200 MB of numpy arrays, written (every page resident).
        s, doc = c.call('POST', '/sessions', {})
        sid = doc['session_id']
        c.cell(sid, 'import numpy as np\n'
               'arrays = [np.full(25 * 10**6 // 4, float(i)) for i in range(4)]\n'
               'sum(a.nbytes for a in arrays)')
        big = forks(c, sid, n)
        # The pair, before and after the child writes its arrays.
        p_alone = int(c.cell(sid, PSS))
        cg_alone = memory(c, sid)
        s, doc = c.call('POST', '/sessions/%s/fork' % sid)
        child = doc['session_id']
        time.sleep(0.5)
        cg_pair = memory(c, sid)
        pss_pair = int(c.cell(sid, PSS)) + int(c.cell(child, PSS))
        t0 = time.perf_counter()
        c.cell(child, 'for a in arrays: a += 1.0')
        write_s = time.perf_counter() - t0
        time.sleep(0.5)
        cg_after = memory(c, sid)
        pss_after = int(c.cell(sid, PSS)) + int(c.cell(child, PSS))
        c.call('DELETE', '/sessions/' + child)
        c.call('DELETE', '/sessions/' + sid)
        ms = 1e3
        res.update({
            'create_p50_ms': pct(creates, .5) * ms,
            'create_p95_ms': pct(creates, .95) * ms,
            'cell_p50_ms': pct(cells, .5) * ms,
            'cell_p95_ms': pct(cells, .95) * ms,
            'fork_empty_p50_ms': pct(empty, .5) * ms,
            'fork_empty_p95_ms': pct(empty, .95) * ms,
            'fork_200mb_p50_ms': pct(big, .5) * ms,
            'fork_200mb_p95_ms': pct(big, .95) * ms,
            'parent_alone_pss_mib': p_alone / MB,
            'parent_alone_cgroup_mib': cg_alone / MB,
            'pair_pss_mib': pss_pair / MB,
            'pair_cgroup_mib': cg_pair / MB,
            'child_write_s': write_s,
            'pair_after_write_pss_mib': pss_after / MB,
            'pair_after_write_cgroup_mib': cg_after / MB,
        })
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--n', type=int, default=20)
    ap.add_argument('--modes', default='zygote,exec')
    args = ap.parse_args()
    rows = [bench_mode(m, args.n) for m in args.modes.split(',')]
    for r in rows:
        print(json.dumps(r, indent=1))
    print()
    print('| mode | fork empty p50/p95 ms | fork 200 MB p50/p95 ms | '
          'create p50/p95 ms | cell p50/p95 ms | pair PSS MiB: before fork, '
          'after fork, after child writes | family cgroup MiB: same |')
    print('|---|---|---|---|---|---|---|')
    for r in rows:
        print('| %s | %.1f / %.1f | %.1f / %.1f | %.1f / %.1f | %.1f / %.1f '
              '| %.0f, %.0f, %.0f | %.0f, %.0f, %.0f |' % (
                  r['mode'], r['fork_empty_p50_ms'], r['fork_empty_p95_ms'],
                  r['fork_200mb_p50_ms'], r['fork_200mb_p95_ms'],
                  r['create_p50_ms'], r['create_p95_ms'],
                  r['cell_p50_ms'], r['cell_p95_ms'],
                  r['parent_alone_pss_mib'], r['pair_pss_mib'],
                  r['pair_after_write_pss_mib'],
                  r['parent_alone_cgroup_mib'], r['pair_cgroup_mib'],
                  r['pair_after_write_cgroup_mib']))


if __name__ == '__main__':
    main()
