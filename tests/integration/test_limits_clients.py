"""What the playground and the client do when the server says no: 429
with Retry-After, 503 ServerBusy, a run that hits the time limit; and
that /metrics counts those (timeouts, rate-limit and busy refusals,
zygote replacements)."""
import json
import os
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import test_client as tc  # noqa: E402
import test_metrics as tm  # noqa: E402
import test_playground as tp  # noqa: E402

MODES = ('zygote',)
WORKERS = 3
CONFIG = {'rate_limit_per_minute': 3, 'time_limit_seconds': 3,
          'max_concurrent': 1, 'zygote_max_runs': 2}


def hold_slot(s):
    """Starts an admin run that holds the only slot; returns the thread
    once the slot is taken."""
    t = threading.Thread(target=s.execute, args=(
        {'code': 'import time\ntime.sleep(1.5)', 'api_key': s.admin_key},),
        kwargs={'timeout': 120})
    t.start()
    for _ in range(600):
        st, _, body = s.request('GET', '/status')
        if json.loads(body)['slots']['in_flight'] == 1:
            return t
        time.sleep(0.05)
    raise AssertionError('the holding run never took the slot')


def test_client_busy_timeout_ratelimit(s):
    px = tc.px
    before = tm.metrics(s)
    c = tc.client(s)
    t = hold_slot(s)
    try:
        c.execute('print(1)')
        raise AssertionError('no Busy')
    except px.Busy as e:
        assert e.status == 503 and e.retry_after == 1
    t.join()
    admin = tc.client(s, s.admin_key)
    try:
        admin.execute('print("partial", flush=True)\nwhile True: pass')
        raise AssertionError('no Timeout')
    except px.Timeout as e:
        assert e.result.stdout == 'partial\n'
        assert e.result.termination == 'timeout'
    # Public runs until the per-minute limit (3) answers.
    for _ in range(4):
        try:
            c.execute('pass')
        except px.RateLimited as e:
            assert type(e) is px.RateLimited and e.status == 429
            assert 0 < e.retry_after <= 60
            break
    else:
        raise AssertionError('no RateLimited')
    after = tm.metrics(s)
    assert tm.delta(after, before, 'pyexec_busy_refusals_total') >= 1
    assert tm.delta(after, before,
                    'pyexec_runs_total{termination="timeout"}') >= 1, \
        {k: tm.delta(after, before, k) for k in after if 'runs_total' in k}
    # >= 1: on a slow machine the holding run may reach the limit too.
    assert tm.delta(after, before, tm.REQ % ('/execute', 400,
                                             'TimeoutError')) >= 1
    assert tm.delta(after, before,
                    'pyexec_rate_limit_refusals_total{limit="per_minute"}') >= 1
    # zygote_max_runs = 2: after these runs some zygote was recycled.
    assert after['pyexec_zygote_replacements_total{reason="recycled"}'] >= 1


def test_playground_busy_timeout_ratelimit(s):
    d = tp.driver(s)
    t = hold_slot(s)
    tp.run(d, 'print(1)')
    t.join()
    err = d.find_element('id', 'error').text
    assert 'busy' in err.lower() and 'Retry in 1 s' in err, err
    # The page waits out Retry-After before it runs again.
    tp.wait(d, lambda d: d.find_element('id', 'run').is_enabled(), 30)

    # The admin key, kept in the page, lifts the rate limit; a run that
    # hits the time limit shows its partial output.
    tp.set_value(d, 'api-key', s.admin_key)
    tp.run(d, 'print("partial", flush=True)\nwhile True: pass')
    err = d.find_element('id', 'error').text
    assert 'Time limit' in err, err
    assert tp.text(d, 'stdout') == 'partial\n'
    assert tp.text(d, 'termination') == 'time limit'
    assert 'admin key' in tp.text(d, 'meta')
    tp.set_value(d, 'api-key', '')

    for _ in range(4):
        tp.run(d, 'pass')
        err = d.find_element('id', 'error')
        if err.is_displayed() and 'Too many runs' in err.text:
            break
    else:
        raise AssertionError('no 429 shown')
    assert 'Retry in' in err.text
    assert not d.find_element('id', 'run').is_enabled()
    assert 'run again in' in tp.text(d, 'busy')
