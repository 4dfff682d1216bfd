"""Review of sessions (issue 11), the file routes.

1. execute.c copies the request URI into a 256-byte buffer with strlcpy
   and routes what is left: a file path longer than about 204 bytes (or
   68 percent-encoded non-ASCII bytes), valid by the attachment name
   rules (255 bytes), is silently cut, and GET/PUT/DELETE act on another
   file (a prefix of the name) and answer 200 for it.
2. boot.py's file GET (and PUT) opens the file without O_NONBLOCK before checking
   it is a regular file: GET of a FIFO the session made hangs the driver
   until the time limit, the session is killed, and the answer is 404
   SessionNotFound instead of the documented 400 "is not a regular file".
"""
from sess_helpers import call, create, cell, delete

CONFIG = {'rate_limit_per_minute': 1000, 'daily_quota': 100000,
          'time_limit_seconds': 3}
TIMEOUT = 180


def test_long_file_path_is_not_cut(s):
    sid = create(s)
    # Files named 'a' * n, for n below 250, each holding n.
    cell(s, sid, 'for n in range(100, 250):\n'
                 '    open("/work/" + "a" * n, "w").write(str(n))')
    long_ = 'a' * 250                    # within PYX_NAME_MAX (255)
    st, _, data = s.request('GET', '/sessions/%s/files/%s' % (sid, long_))
    delete(s, sid)
    assert st != 200, (
        'GET of a 250-byte name (no such file) answered 200 with the file '
        'named by its first %s bytes' % data.decode(errors='replace'))


def test_get_of_a_fifo_is_a_clear_error(s):
    sid = create(s)
    cell(s, sid, 'import os\nos.mkfifo("/work/pipe")\nx = 42')
    st, doc, _ = call(s, 'GET', '/sessions/%s/files/pipe' % sid)
    alive = call(s, 'GET', '/sessions/' + sid)[0] == 200
    if alive:
        delete(s, sid)
    assert st == 400 and alive, (st, doc, 'session alive: %s' % alive)


def test_put_onto_a_fifo_is_a_clear_error(s):
    sid = create(s)
    cell(s, sid, 'import os\nos.mkfifo("/work/pipe")')
    st, _, data = s.request('PUT', '/sessions/%s/files/pipe' % sid, b'x')
    alive = call(s, 'GET', '/sessions/' + sid)[0] == 200
    if alive:
        delete(s, sid)
    assert st == 400 and alive, (st, data, 'session alive: %s' % alive)
