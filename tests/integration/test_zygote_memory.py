"""mode = zygote: a zygote's memory, environment and descriptors hold no
secret and nothing of a request it forked the run of. In a stack of its
own with the default zygote_max_runs: test_zygote.py's (2) retires each
zygote after one run and its pre-built jail, so between requests there
may be no live zygote left to scan."""
import secrets
import time

from helpers import b64, ok
from test_zygote import check_zygote, live_zygotes

MODES = ('zygote',)


def test_zygote_holds_no_secret_or_request_data(s):
    marker_code = 'CODE-' + secrets.token_hex(16)
    marker_file = 'FILE-' + secrets.token_hex(16)
    marker_stdin = 'STDIN-' + secrets.token_hex(16)
    for key in (s.admin_key, None):
        payload = {'code': 'x = "%s"\nprint(len(open("f").read()), len(input()))' % marker_code,
                   'stdin_data': marker_stdin,
                   'attachments': [{'filename': 'f', 'content_base_64': b64(marker_file)}]}
        if key:
            payload['api_key'] = key
        d = ok(s.execute(payload))
        assert d['stdout'] == '%d %d\n' % (len(marker_file), len(marker_stdin)), d
    # Idle workers pre-build their next jail: scan once the set of live
    # zygotes is steady.
    zs, deadline = None, time.monotonic() + s.slack(runs=20)
    while time.monotonic() < deadline:
        now = sorted(live_zygotes(s))
        if now and now == zs:
            break
        zs = now
        time.sleep(1)
    assert zs, 'no live zygote found: ' + s.worker_log_text()[-800:]
    needles = [s.admin_key.encode(), marker_code.encode(), marker_file.encode(),
               marker_stdin.encode()]
    scanned = 0
    for pid in zs:
        # A worker may still replace its zygote (a pre-built jail counts
        # as a run): one listed may be gone by now.
        try:
            check_zygote(s, pid, needles)
        except (ProcessLookupError, FileNotFoundError):
            continue
        scanned += 1
    assert scanned, 'every zygote listed was gone before its scan'
