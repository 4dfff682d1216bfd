"""Sessions (issue 11): the interpreter is hostile to the keeper and the
worker. A cell that forges or breaks the driver's framing, floods output,
or asks for more than the frame cap ends only its own session, at once,
and the answer says so; attachments given at creation land in the
workspace."""
import base64
import time

from sess_helpers import call, create, run, cell, delete

# zygote_max_runs 2: the zygotes that forked the keepers are recycled
# again and again while the sessions live on.
CONFIG = {'rate_limit_per_minute': 1000, 'daily_quota': 100000,
          'max_output_bytes': 65536, 'zygote_max_runs': 2}

# Every writable fd that is a pipe: the driver's reply channel among them.
WRITE_PIPES = '''import os, stat
for fd in range(3, 64):
    try:
        st = os.fstat(fd)
    except OSError:
        continue
    if stat.S_ISFIFO(st.st_mode) and os.get_blocking(fd) is not None:
        try:
            os.write(fd, PAYLOAD)
        except OSError:
            pass
'''


def test_garbage_on_the_reply_channel_ends_only_that_session(s):
    bystander = create(s)
    cell(s, bystander, 'y = 7')
    sid = create(s)
    t0 = time.monotonic()
    st, doc, _ = run(s, sid, 'PAYLOAD = b"\\xff\\xff\\xff\\xff" + b"x" * 64\n'
                     + WRITE_PIPES + 'import time\ntime.sleep(30)')
    took = time.monotonic() - t0
    assert st == 200, doc
    d = doc['execution_details']
    assert d['session_alive'] is False, d
    assert 'protocol' in d['session_message'] or 'ended' in d['session_message'], d
    assert took < 25, took       # not the cell's sleep, nor the time limit
    assert call(s, 'GET', '/sessions/' + sid)[0] == 404
    assert cell(s, bystander, 'y')['result'] == '7'
    delete(s, bystander)


def test_forged_reply_forges_only_its_own_result(s):
    sid = create(s)
    forged = b'{"result": "FORGED", "error": null, "display": [], "extra": 1}'
    code = ('import sys\nPAYLOAD = (%d).to_bytes(4, sys.byteorder) + %r\n' % (len(forged), forged)
            + WRITE_PIPES)
    st, doc, _ = run(s, sid, code)
    # Either the forged frame was taken as this cell's reply (its own
    # result, with only the checked fields), or the session was ended.
    assert st == 200, doc
    d = doc['execution_details']
    assert 'extra' not in d, d
    if d['session_alive']:
        assert d['result'] in ('FORGED', None), d
    delete(s, sid)


def test_output_flood_is_capped_and_the_session_lives(s):
    sid = create(s)
    d = cell(s, sid, 'import sys\nfor i in range(20000):\n'
             '    sys.stdout.write("x" * 100)\nprint("done", file=sys.stderr)')
    assert d['stdout_truncated'] is True and len(d['stdout']) <= 65536, len(d['stdout'])
    assert d['stderr'] == 'done\n', d['stderr']
    assert d['session_alive'] is True
    assert cell(s, sid, '6*7')['result'] == '42'
    delete(s, sid)


def test_attachments_at_creation_land_in_the_workspace(s):
    st, doc, _ = call(s, 'POST', '/sessions', {'attachments': [
        {'filename': 'data/in.txt',
         'content_base_64': base64.b64encode(b'hello\x00world').decode()}]},
        admin=True)
    assert st == 201, doc
    sid = doc['session_id']
    d = cell(s, sid, 'open("data/in.txt", "rb").read()')
    assert d['result'] == "b'hello\\x00world'", d
    st, doc, _ = call(s, 'GET', '/sessions/%s/files' % sid)
    assert [f['path'] for f in doc['files']] == ['data', 'data/in.txt'], doc
    delete(s, sid)
    st, doc, _ = call(s, 'POST', '/sessions', {'attachments': [
        {'filename': '../x', 'content_base_64': 'eA=='}]}, admin=True)
    assert st == 400 and doc['error_details']['type'] == 'ValidationError', doc
    st, doc, _ = call(s, 'POST', '/sessions', {'code': 'x'}, admin=True)
    assert st == 400 and doc['error_details']['type'] == 'ValidationError', doc
