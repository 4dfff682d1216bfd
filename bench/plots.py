"""plots.py: what a small matplotlib line plot saved to PNG costs per run.

Issue 17 item 1. Runs the same script through the real stack (nginx,
workers, the sandbox), N times per mode after one warm-up, and prints one
line per binary and mode: p50 and p90 of the request's latency and of the
run's own execution_duration_sec. Give --binary twice to compare two
builds side by side (e.g. main's and this tree's):

    python3 bench/plots.py [--runs 15] [--modes zygote,exec]
        [--binary build/src/pyexec-fcgi --binary /work/main/build/src/pyexec-fcgi]
"""
import argparse
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'tests', 'harness'))
import stack  # noqa: E402

PLOT = '''
import matplotlib
import matplotlib.pyplot as plt
plt.plot([1, 2, 3, 4], [1, 4, 2, 3])
plt.title("line")
plt.savefig("plot.png")
print("ok")
'''


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(p * len(v)))]


def measure(binary, mode, runs):
    stack.BINARY = binary
    stack.ZYGOTE = os.path.join(os.path.dirname(binary), 'pyexec-zygote')
    stack.UIDMAP = os.path.join(os.path.dirname(binary), 'pyexec-uidmap')
    cfg = {'mode': mode, 'rate_limit_per_minute': 1000000,
           'daily_quota': 100000000, 'time_limit_seconds': 60,
           'allowed_imports': 'matplotlib'}
    with stack.Stack(config=cfg, workers=2) as s:
        lat, run = [], []
        for i in range(runs + 1):
            t0 = time.time()
            st, doc, _ = s.execute({'code': PLOT,
                                    'return_files': ['plot.png']})
            t = time.time() - t0
            d = doc.get('execution_details', {}) if doc else {}
            ok = st == 200 and d.get('stdout') == 'ok\n' and \
                'content_base64' in d.get('output_files', {}).get('plot.png', {})
            if not ok:
                raise SystemExit('failed: %s %s' % (st, doc))
            if i > 0:       # the first one warms caches
                lat.append(t)
                run.append(d['execution_duration_sec'])
    return lat, run


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--runs', type=int, default=15)
    ap.add_argument('--modes', default='zygote,exec')
    ap.add_argument('--binary', action='append')
    a = ap.parse_args()
    binaries = a.binary or [stack.BINARY]
    print('| binary | mode | runs | request p50 s | p90 s | run p50 s | p90 s |')
    print('|---|---|---|---|---|---|---|')
    for mode in a.modes.split(','):
        for b in binaries:
            lat, run = measure(os.path.abspath(b), mode, a.runs)
            print('| %s | %s | %d | %.3f | %.3f | %.3f | %.3f |' % (
                b, mode, a.runs, statistics.median(lat), pct(lat, 0.9),
                statistics.median(run), pct(run, 0.9)), flush=True)


if __name__ == '__main__':
    main()
