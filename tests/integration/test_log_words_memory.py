"""The request's log line when the memory cgroup killed part of a run:
oom=yes, with the run's termination in words (test_log_words.py has the
other endings). Shares test_limits_resources.py's stack and script."""
from helpers import ok
from test_limits_resources import CONFIG, HOLD_TOGETHER, _require_memory_cgroup  # noqa: F401
from test_log_words import line_of


def test_oom_logged_in_words(s):
    _require_memory_cgroup(s)
    code = HOLD_TOGETHER + 'print(hold_together(4, 64))\n'
    _, doc, h = r = s.execute({'code': code, 'api_key': s.admin_key})
    d = ok(r)
    assert d['oom_killed'] is True, d
    line = line_of(s, h['x-request-id'])
    assert ' oom=yes ' in line, line
    assert ' term=%s ' % d['termination'] in line, (line, d['termination'])
