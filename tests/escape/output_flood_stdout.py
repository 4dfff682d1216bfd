"""200 MB of output on stdout, from two processes."""
import json

from escape_util import assert_healthy, config, worker_pids

CONFIG = config()

ATTACK = ('write 200 MB to stdout in 1 MiB chunks from the script and from '
          'a forked child at the same time')
EXPECTED = ('the run is stopped with termination "output_limit", '
            'stdout_truncated true, stdout at most max_output_bytes, the '
            'HTTP response bounded (about max_output_bytes), quickly; the '
            'worker survives')

CODE = r'''
import os, sys
chunk = b'A' * (1 << 20)
os.fork()
for i in range(200):
    sys.stdout.buffer.write(chunk)
print('finished writing')
'''


def test(stack):
    cap = int(stack.config.get('max_output_bytes', 1048576))
    workers = worker_pids(stack)
    body = json.dumps({'code': CODE, 'api_key': stack.admin_key}).encode()
    status, hdrs, raw = stack.request('POST', '/execute', body,
                                      {'Content-Type': 'application/json'},
                                      timeout=60)
    assert len(raw) <= cap + 64 * 1024, 'response is %d bytes' % len(raw)
    doc = json.loads(raw)
    d = doc['execution_details']
    assert status == 200, (status, doc.get('error_details'))
    assert d['termination'] == 'output_limit', d['termination']
    assert d['stdout_truncated'] is True, d
    assert len(d['stdout'].encode()) <= cap, len(d['stdout'])
    assert 'finished writing' not in d['stdout']
    # Stopped at the cap, long before the deadline.
    tl = int(stack.config.get('time_limit_seconds', 10))
    assert d['execution_duration_sec'] < min(stack.slack(), tl - 1), \
        d['execution_duration_sec']
    assert_healthy(stack, workers)
