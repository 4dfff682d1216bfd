"""plots.py: what a small matplotlib line plot saved to PNG costs per run.

Issue 17 item 1. Runs the same script through the real stack (nginx,
workers, the sandbox), N times per mode after one warm-up, and prints one
line per binary and mode: p50 and p90 of the request's latency and of the
run's own execution_duration_sec. Give --binary twice to compare two
builds side by side (e.g. main's and this tree's). Beside them, in the
same run, two floors: the same script in a fresh `python3 -I` outside any
sandbox, once with a fresh matplotlib cache directory each time (what a
run cost before the issue: matplotlib rebuilt its font cache in the run's
empty /tmp) and once with a warm one; and, in one warm python3 -I that
has drawn a figure already (what a zygote holds), the same plot drawn
again in that process and in forked copies of it, with no sandbox, no
HTTP and no start-up: the least a run that draws in a warm interpreter
can cost, and what forking alone adds (copy-on-write page faults, counted).
Each row states its ratio to the first floor (the issue's target: at
most 0.1):

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


def floor(runs, fresh):
    """Wall time of PLOT in a fresh python3 -I, p50 and p90; fresh: a new
    MPLCONFIGDIR per run (the font cache rebuilt), else one kept warm."""
    import shutil
    import subprocess
    import tempfile
    keep = tempfile.mkdtemp(prefix='plots-floor-')
    out = []
    try:
        for i in range(runs + 1):
            work = tempfile.mkdtemp(dir=keep)
            cfg = tempfile.mkdtemp(dir=keep) if fresh else keep + '/mpl'
            env = {'PATH': '/usr/bin:/bin', 'MPLCONFIGDIR': cfg,
                   'MPLBACKEND': 'Agg', 'HOME': work}
            t0 = time.time()
            p = subprocess.run(['/usr/bin/python3', '-I', '-c', PLOT],
                               cwd=work, env=env, capture_output=True)
            t = time.time() - t0
            if p.returncode != 0 or p.stdout != b'ok\n':
                raise SystemExit('floor failed: %r' % (p.stderr[-500:],))
            if i > 0:
                out.append(t)
    finally:
        shutil.rmtree(keep, ignore_errors=True)
    return statistics.median(out), pct(out, 0.9)


WARM_DRAW = r'''
import io, json, os, resource, sys, time
os.environ['MPLBACKEND'] = 'Agg'
import matplotlib.pyplot as plt
runs = int(sys.argv[1])
code = compile(sys.argv[2], '<plot>', 'exec')
os.chdir(os.environ['HOME'])
fig = plt.figure()
plt.plot([0, 1], [0, 1])
fig.savefig(io.BytesIO(), format='png')
plt.close('all')


def draw():
    t0 = time.perf_counter()
    f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    sys.stdout = io.StringIO()          # PLOT prints "ok"
    exec(code, {'__name__': '__main__'})
    sys.stdout = sys.__stdout__
    plt.close('all')
    return (time.perf_counter() - t0,
            resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0)


inproc, forked = [], []
for i in range(runs):
    inproc.append(draw())
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        os.write(w, json.dumps(draw()).encode())
        os._exit(0)
    os.close(w)
    with os.fdopen(r) as f:
        forked.append(json.loads(f.read()))
    os.waitpid(pid, 0)
print(json.dumps({'inproc': inproc, 'forked': forked}))
'''


def warm_draw(runs):
    """PLOT drawn again in a warm python3 -I (one figure drawn first), in
    the process itself and in a forked copy, alternately: p50 and p90 of
    each, and the median page faults of each."""
    import json
    import shutil
    import subprocess
    import tempfile
    cfg = tempfile.mkdtemp(prefix='plots-warm-')
    try:
        env = {'PATH': '/usr/bin:/bin', 'MPLCONFIGDIR': cfg, 'HOME': cfg}
        p = subprocess.run(['/usr/bin/python3', '-I', '-c', WARM_DRAW,
                            str(runs), PLOT], env=env, capture_output=True)
        if p.returncode != 0:
            raise SystemExit('warm floor failed: %r' % (p.stderr[-500:],))
        doc = json.loads(p.stdout)
    finally:
        shutil.rmtree(cfg, ignore_errors=True)
    out = {}
    for k in ('inproc', 'forked'):
        t = [x[0] for x in doc[k]]
        out[k] = (statistics.median(t), pct(t, 0.9),
                  statistics.median(x[1] for x in doc[k]))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--runs', type=int, default=15)
    ap.add_argument('--modes', default='zygote,exec')
    ap.add_argument('--binary', action='append')
    a = ap.parse_args()
    binaries = a.binary or [stack.BINARY]
    cold = floor(a.runs, True)
    warm = floor(a.runs, False)
    print('| binary | mode | runs | request p50 s | p90 s | run p50 s | p90 s '
          '| request p50 / cold floor |')
    print('|---|---|---|---|---|---|---|---|')
    print('| python3 -I, fresh cache (cold floor) | - | %d | %.3f | %.3f | - '
          '| - | 1.00 |' % (a.runs, cold[0], cold[1]))
    print('| python3 -I, warm cache | - | %d | %.3f | %.3f | - | - | %.2f |' % (
        a.runs, warm[0], warm[1], warm[0] / cold[0]), flush=True)
    drawn = warm_draw(a.runs)
    for k, what in (('inproc', 'drawn again in a warm python3 -I'),
                    ('forked', 'drawn in a fork of a warm python3 -I')):
        print('| %s (%d page faults) | - | %d | %.3f | %.3f | - | - | %.2f |' % (
            what, drawn[k][2], a.runs, drawn[k][0], drawn[k][1],
            drawn[k][0] / cold[0]), flush=True)
    for mode in a.modes.split(','):
        for b in binaries:
            lat, run = measure(os.path.abspath(b), mode, a.runs)
            print('| %s | %s | %d | %.3f | %.3f | %.3f | %.3f | %.2f |' % (
                b, mode, a.runs, statistics.median(lat), pct(lat, 0.9),
                statistics.median(run), pct(run, 0.9),
                statistics.median(lat) / cold[0]), flush=True)


if __name__ == '__main__':
    main()
