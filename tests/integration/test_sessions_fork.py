"""Forking a live session (issue 13): POST /sessions/{id}/fork.

A fork is a new session whose interpreter is a copy of its parent's at the
moment of the fork (nothing re-executed) and whose workspace is a copy of
the parent's; parent and child share one jail (a family), as the README
says, and every promise the README makes about relatives is tested here.
"""
import json
import time

from sess_helpers import call, create, run, cell, delete

CONFIG = {'max_sessions': 4, 'max_sessions_per_ip': 4,
          'rate_limit_per_minute': 1000, 'daily_quota': 100000}


def fork(s, sid, admin=True, ip=None):
    return call(s, 'POST', '/sessions/%s/fork' % sid, {} if admin else None,
                ip=ip, admin=admin)


def forked(s, sid):
    st, doc, _ = fork(s, sid)
    assert st == 201, (st, doc)
    assert doc['parent_session_id'] == sid, doc
    assert doc['session_id'] != sid, doc
    for k in ('status', 'timestamp_utc', 'created_utc', 'expires_utc'):
        assert k in doc, doc
    return doc['session_id']


def put(s, sid, path, data):
    st, doc, _ = call(s, 'PUT', '/sessions/%s/files/%s' % (sid, path),
                      raw=data, headers={'Content-Type':
                                         'application/octet-stream'})
    assert st == 200, (st, doc)


def get(s, sid, path):
    st, doc, _ = call(s, 'GET', '/sessions/%s/files/%s' % (sid, path))
    return st, doc


def listing(s, sid):
    st, doc, _ = call(s, 'GET', '/sessions/%s/files' % sid)
    assert st == 200, (st, doc)
    return {f['path']: f for f in doc['files']}


def test_fork_carries_state_and_files(s):
    sid = create(s)
    cell(s, sid, 'import numpy as np\n'
         'counter = [0]\n'
         'def make():\n'
         '    k = 7\n'
         '    def inner():\n'
         '        counter[0] += 1\n'
         '        return k * counter[0]\n'
         '    return inner\n'
         'f = make()\n'
         'a = np.arange(1000, dtype=np.int64)\n'
         'class P:\n'
         '    def __init__(self, v): self.v = v\n'
         'p = P("x")\n'
         'fh = open("notes.txt", "w+")\n'
         'fh.write("hello"); fh.flush()\n'
         'loaded = 0')
    put(s, sid, 'dir/data.bin', bytes(range(256)) * 4)
    # Proof that nothing is re-executed: a side effect counted per run.
    cell(s, sid, 'loaded += 1\nf()')
    child = forked(s, sid)
    d = cell(s, child, 'loaded, f(), int(a.sum()), p.v, type(p).__name__, '
             'np.__name__, fh.closed')
    assert d['result'] == "(1, 14, 499500, 'x', 'P', 'numpy', False)", d
    assert d['session_alive'] is True and d['error'] is None, d
    st, data = get(s, child, 'dir/data.bin')
    assert st == 200 and data == bytes(range(256)) * 4, (st, data[:40])
    st, data = get(s, child, 'notes.txt')
    assert st == 200 and data == b'hello', (st, data)
    # The parent still has its own state, one call later.
    assert cell(s, sid, 'f()')['result'] == '14'
    for x in (child, sid):
        assert delete(s, x)[0] == 200
