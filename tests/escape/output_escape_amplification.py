"""Output that grows when escaped: control bytes and invalid UTF-8."""
import json

from escape_util import assert_healthy, config, run_raw, worker_pids

CONFIG = config()

ATTACK = ('write max_output_bytes of \\x01 to stdout (JSON escapes each as '
          '\\u0001, 6 bytes) and of \\xff to stderr (invalid UTF-8, each '
          'replaced by U+FFFD), 5 times over, to inflate the reply')
EXPECTED = ('each stream keeps at most max_output_bytes (truncated past it); '
            'the reply stays below 6 bytes per kept byte per stream (about '
            '12x max_output_bytes for both), whatever the script writes')

CODE = r'''
import os
for i in range(5):
    os.write(1, b'\x01' * (1 << 20))
    os.write(2, b'\xff' * (1 << 20))
'''


def test(stack):
    cap = int(stack.config.get('max_output_bytes', 1048576))
    workers = worker_pids(stack)
    status, raw = run_raw(stack, CODE)
    assert status == 200, (status, raw[:300])
    assert len(raw) <= 2 * 6 * cap + 64 * 1024, \
        'reply of %d bytes for max_output_bytes %d' % (len(raw), cap)
    d = json.loads(raw)['execution_details']
    assert d['termination'] == 'output_limit', d['termination']
    assert len(d['stdout'].encode()) <= cap, len(d['stdout'])
    assert_healthy(stack, workers)
