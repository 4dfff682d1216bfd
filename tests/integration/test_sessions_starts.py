"""max_session_starts: how many sessions are being created at once, pool
wide. A creation past the bound waits for a start slot (a lock on
runtime_dir/start.N) before anything of its session exists, instead of
starting beside the others: a burst of creations all succeed, one at a
time; a creation whose client gives up while it waits ends there and
leaves no session behind.

The tests hold the one start slot from outside the service (a POSIX lock
on start.0 conflicts with the workers' OFD locks), so that creations
must wait for it, and look at what exists meanwhile: a session's socket
is made (sess_new) right after its start slot is taken, long before the
session answers, so a creation that did not wait shows one within
moments."""
import fcntl
import json
import os
import socket
import ssl
import threading
import time

from sess_helpers import call, create, cell, delete

CONFIG = {'max_session_starts': 1, 'max_sessions': 6}


def runtime_dir(s):
    return s.config['runtime_dir']


class Held:
    """The one start slot, held by the test until release()."""

    def __init__(self, s):
        path = os.path.join(runtime_dir(s), 'start.0')
        if not os.path.exists(path):
            # The service makes the file (its own, 0600) on first use.
            delete(s, create(s))
        self.fd = os.open(path, os.O_RDWR)
        fcntl.lockf(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)

    def release(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def creating(s, out):
    def go():
        out['t0'] = time.monotonic()
        out['status'], out['doc'], _ = call(s, 'POST', '/sessions', {},
                                            admin=True)
        out['t1'] = time.monotonic()
    t = threading.Thread(target=go)
    t.start()
    return t


def sockets(s):
    d = os.path.join(runtime_dir(s), 'sessions')
    return sorted(n for n in os.listdir(d) if n.endswith('.sock')) \
        if os.path.isdir(d) else []


def test_creations_wait_for_the_start_slot(s):
    before = sockets(s)
    held = Held(s)
    outs = [{} for _ in range(3)]
    try:
        threads = [creating(s, o) for o in outs]
        # Several times what a creation takes to make its socket here.
        time.sleep(max(2.0, 4 * s.run_cost()))
        done = [o for o in outs if 'status' in o]
        assert not done, ('created while every start slot was held', done)
        assert sockets(s) == before, ('a session exists while its start '
                                      'slot is held', sockets(s))
    finally:
        held.release()
    for t in threads:
        t.join(180)
    bad = [o for o in outs if o.get('status') != 201]
    assert not bad, bad
    for i, o in enumerate(outs):
        sid = o['doc']['session_id']
        assert cell(s, sid, 'x = %d\nx * 2' % i)['result'] == str(2 * i)
        assert delete(s, sid)[0] == 200


def test_a_burst_of_creations_all_start_one_at_a_time(s):
    """With one start slot, no two sessions are ever being started at
    once. Sampled all along the burst: session sockets beyond those of
    the creations already answered. The one being started has one; so
    may one more, whose slot is free (it has started) but whose answer
    is still on its way to the client. Without the bound all five show
    up at once."""
    base = len(sockets(s))
    outs = [{} for _ in range(5)]
    threads = [creating(s, o) for o in outs]
    worst = 0
    while any(t.is_alive() for t in threads):
        answered = sum(1 for o in outs if 'status' in o)
        # Read after the answers: a creation answered in between counts
        # only in the socket count (never the other way round).
        extra = len(sockets(s)) - base - answered
        worst = max(worst, extra)
        time.sleep(0.005)
    for t in threads:
        t.join(180)
    bad = [o for o in outs if o.get('status') != 201]
    assert not bad, bad
    assert worst <= 2, ('%d sessions being started at once with '
                        'max_session_starts = 1' % worst)
    for o in outs:
        assert delete(s, o['doc']['session_id'])[0] == 200


def raw_request(s, path, body):
    ctx = ssl.create_default_context(cafile=s.cert)
    raw = socket.create_connection((s.host, s.port), timeout=30)
    conn = ctx.wrap_socket(raw, server_hostname=s.host)
    data = json.dumps(body).encode()
    conn.sendall(('POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: '
                  'application/json\r\nContent-Length: %d\r\n\r\n'
                  % (path, s.host, len(data))).encode() + data)
    return conn


def test_a_creation_whose_client_leaves_while_waiting_makes_nothing(s):
    before = sockets(s)
    gone_before = s.worker_log_text().count('no start slot came free')
    held = Held(s)
    try:
        conn = raw_request(s, '/sessions', {'api_key': s.admin_key})
        time.sleep(1.0)
        conn.close()
        # The worker ends its wait when nginx drops the request, still
        # holding nothing; a creation that missed it would start as soon
        # as the slot is free, below.
        deadline = time.monotonic() + max(10.0, 10 * s.run_cost())
        while (s.worker_log_text().count('no start slot came free') ==
               gone_before and time.monotonic() < deadline):
            time.sleep(0.1)
        assert s.worker_log_text().count('no start slot came free') > \
            gone_before, 'the worker did not notice its client leave'
    finally:
        held.release()
    deadline = time.monotonic() + max(5.0, 10 * s.run_cost())
    while time.monotonic() < deadline:
        assert sockets(s) == before, ('a session was made for a client '
                                      'that had left', sockets(s))
        time.sleep(0.2)
    # And the service creates sessions as before.
    sid = create(s)
    assert cell(s, sid, '1 + 1')['result'] == '2'
    assert delete(s, sid)[0] == 200
