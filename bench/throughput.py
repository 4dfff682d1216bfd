"""throughput.py: throughput and latency of /execute through the real stack.

nginx over HTTPS with keep-alive, the spawn-fcgi/multiwatch pool, the
sandbox; wrk (with bench/wrk.lua) as the client, on loopback. For each
mode (zygote, exec), scenario and concurrency: requests/s, p50/p95/p99
latency, CPU time per request (machine-wide busy time minus wrk's own,
divided by requests) and the count of answers that were not 200. Rate
limits and max_concurrent are raised for the run. Prints a markdown table.

    python3 bench/throughput.py [--seconds 8] [--modes zygote,exec] [--conc 1,8,25]
"""
import argparse
import base64
import io
import json
import os
import resource
import struct
import subprocess
import sys
import tempfile
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'tests', 'harness'))
import stack  # noqa: E402


def png(w, h):
    rows = b''.join(b'\x00' + bytes(((x * 37) % 256, (y * 59) % 256, 128) * 1)
                    * 1 for y in range(h) for x in range(1))
    raw = b''.join(b'\x00' + b''.join(bytes(((x * 37) % 256, (y * 59) % 256, 128))
                                      for x in range(w)) for y in range(h))

    def chunk(t, d):
        c = struct.pack('>I', len(d)) + t + d
        return c + struct.pack('>I', zlib.crc32(t + d) & 0xffffffff)
    del rows
    return (b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 2, 0, 0, 0))
            + chunk(b'IDAT', zlib.compress(raw)) + chunk(b'IEND', b''))


SCENARIOS = {
    'hello': {'code': 'print("hello")'},
    'numpy': {'code': 'import numpy as np\nprint(int(np.arange(1000).sum()))'},
    'pillow': {'code': 'from PIL import Image\nImage.open("in.png").convert("L").save("out.png")',
               'attachments': [{'filename': 'in.png',
                                'content_base_64': base64.b64encode(png(64, 64)).decode()}],
               'return_files': ['out.png']},
    'echo_1mb': {'code': 'open("out.bin", "wb").write(open("in.bin", "rb").read())',
                 'attachments': [{'filename': 'in.bin',
                                  'content_base_64': base64.b64encode(os.urandom(1 << 20)).decode()}],
                 'return_files': ['out.bin']},
}


def busy_jiffies():
    with open('/proc/stat') as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return sum(v) - v[3] - v[4]     # all but idle and iowait


def run_wrk(st, body_path, conc, seconds):
    env = dict(os.environ, PYEXEC_BODY=body_path)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    j0 = busy_jiffies()
    p = subprocess.run(['wrk', '-t', '2' if conc > 1 else '1', '-c', str(conc),
                        '-d', '%ds' % seconds, '--timeout', '30s', '-s',
                        os.path.join(HERE, 'wrk.lua'),
                        'https://127.0.0.1:%d/execute' % st.port],
                       env=env, capture_output=True, text=True)
    j1 = busy_jiffies()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    line = [l for l in p.stdout.splitlines() if l.startswith('RESULT ')]
    if not line:
        raise RuntimeError('wrk failed: ' + p.stdout + p.stderr)
    r = json.loads(line[0][7:])
    wrk_cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    hz = os.sysconf('SC_CLK_TCK')
    r['cpu_ms_per_req'] = ((j1 - j0) / hz - wrk_cpu) * 1000 / max(r['requests'], 1)
    r['rps'] = r['requests'] / r['seconds']
    return r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--seconds', type=int, default=8)
    ap.add_argument('--modes', default='zygote,exec')
    ap.add_argument('--conc', default='1,8,25')
    ap.add_argument('--scenarios', default=','.join(SCENARIOS))
    args = ap.parse_args()
    concs = [int(c) for c in args.conc.split(',')]
    tmp = tempfile.mkdtemp(prefix='pyexec-bench-')
    bodies = {}
    for name, payload in SCENARIOS.items():
        bodies[name] = os.path.join(tmp, name + '.json')
        with open(bodies[name], 'w') as f:
            json.dump(payload, f)
    rows = []
    cfg_base = {'max_concurrent': 64, 'rate_limit_per_minute': 1000000,
                'daily_quota': 100000000}
    for mode in args.modes.split(','):
        with stack.Stack(config=dict(cfg_base, mode=mode), workers=max(concs) + 2,
                         flood_rate=100000, flood_burst=100000) as st:
            for name in args.scenarios.split(','):
                # warm every worker (and its zygote) before measuring
                run_wrk(st, bodies[name], max(concs), 2)
                for c in concs:
                    r = run_wrk(st, bodies[name], c, args.seconds)
                    rows.append((mode, name, c, r))
                    print('%-6s %-9s c=%-3d %7.1f req/s  p50 %6.2f  p95 %6.2f  p99 %6.2f ms'
                          '  cpu %5.2f ms/req  failed %d' %
                          (mode, name, c, r['rps'], r['p50_us'] / 1e3, r['p95_us'] / 1e3,
                           r['p99_us'] / 1e3, r['cpu_ms_per_req'],
                           r['non200'] + r['socket_errors']), flush=True)
    print()
    print('| mode | scenario | conc | req/s | p50 ms | p95 ms | p99 ms | CPU ms/req | failed |')
    print('|---|---|---|---|---|---|---|---|---|')
    for mode, name, c, r in rows:
        print('| %s | %s | %d | %.0f | %.2f | %.2f | %.2f | %.2f | %d |' % (
            mode, name, c, r['rps'], r['p50_us'] / 1e3, r['p95_us'] / 1e3,
            r['p99_us'] / 1e3, r['cpu_ms_per_req'], r['non200'] + r['socket_errors']))
    subprocess.run(['rm', '-rf', tmp])


if __name__ == '__main__':
    main()
