"""A recycled zygote is replaced on the worker's time, not the script's.

With zygote_max_runs = 1 every run first waits for a new zygote (Python,
numpy, PIL and matplotlib imported: seconds on a slow machine), and with a
1 s limit a run that paid for it would time out.
"""
from helpers import ok

MODES = ('zygote',)
WORKERS = 1         # every run goes to the same worker and its zygote
CONFIG = {'zygote_max_runs': 1, 'time_limit_seconds': 1}


def _zygotes_started(s):
    import re
    return len(re.findall(r'zygote \d+ ready', s.worker_log_text()))


def test_replacement_not_charged_to_the_run(s):
    before = _zygotes_started(s)
    for i in range(3):
        d = ok(s.execute({'code': 'print(%d)' % i}))
        assert d['stdout'] == '%d\n' % i, d
        assert d['termination'] == 'exited', d
        assert d['execution_duration_sec'] < 1, d
    # The zygote was replaced before the second and third runs at least.
    assert _zygotes_started(s) >= before + 2, (before, _zygotes_started(s))
