#!/usr/bin/python3
"""soak.py: a long run of realistic traffic through the real stack while
faults strike at random, checking every single answer.

    python3 bench/soak.py [--requests 100000] [--minutes M]
                          [--concurrency 8] [--mode zygote|exec]
                          [--fault-every 3] [--seed N]
    python3 bench/soak.py --short        (about 2,000 requests; ./dev.sh test)

As root, after ./dev.sh build. Starts its own stack (tests/harness/stack.py:
nginx over HTTPS, spawn-fcgi/multiwatch, the workers, the jails), with the
state directory on a small tmpfs of its own so that it can be filled.

Traffic: hello world, numpy, attachments and return files, stdin, invalid
requests (bad JSON, unknown fields), syntax errors, forbidden imports,
timeouts, memory bombs over several processes, fork bombs, output floods,
sessions (created, two cells of which the second reads the first's
variable and file, deleted: see SessionFlow), from admin and public callers (public ones from 40 addresses through
X-Forwarded-For, so the rate limits are met too). Every request carries a
unique token, and its answer is checked against what that request must
produce (content, not just status): stdout, files, termination, error
type. Documented refusals are accepted for any request: 503 ServerBusy /
ServiceUnavailable and 429 RateLimitExceeded, each with Retry-After.
Anything else is WRONG (another request's output, a wrong answer, a 500)
or LOST (no answer, a dropped connection, a hang past the run's limit).

Faults, one every --fault-every seconds on average: SIGKILL a worker,
SIGKILL a zygote (never a session's keeper: sessions must outlive the
pool's faults), fill the state directory's file system for a while, hold
an exclusive lock on the rate-limit database for a while, corrupt it (then
restore it, as an operator would), SIGKILL the whole pool at once (the
pool restarts, as multiwatch and systemd restart it).

Afterwards: no process, mount, cgroup, jail directory or held slot of the
stack is left, and the rate-limit counters are consistent with the public
requests that were charged (see check_counters). Prints a report and exits
non-zero unless wrong == 0, lost == 0 and leftovers == 0.
"""
import argparse
import base64
import collections
import fcntl
import glob
import http.client
import json
import os
import pwd
import random
import re
import secrets
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'tests', 'harness'))
import procfs  # noqa: E402
from stack import Stack  # noqa: E402

TIME_LIMIT = 10
MEM_MB = 128
MAX_PROCS = 10
PUBLIC_IPS = ['198.51.100.%d' % i for i in range(1, 41)]

HOLD = '''
import os, select
def hold(n, mib):
    r, w = os.pipe()
    go_r, go_w = os.pipe()
    kids = []
    for i in range(n):
        pid = os.fork()
        if pid == 0:
            b = bytearray(mib << 20)
            for j in range(0, len(b), 4096):
                b[j] = 1
            os.write(w, b'+')
            os.read(go_r, 1)
            os._exit(0)
        kids.append(pid)
    os.close(w)
    ready, st = 0, {}
    while ready + len(st) < n:
        if select.select([r], [], [], 0.1)[0]:
            ready += len(os.read(r, 64))
        for pid in kids:
            if pid not in st:
                got, s = os.waitpid(pid, os.WNOHANG)
                if got:
                    st[pid] = os.waitstatus_to_exitcode(s)
    os.write(go_w, b'x' * n)
    for pid in kids:
        if pid not in st:
            st[pid] = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    return sorted(st.values())
print(TOKEN, hold(3, 56))
'''

FORK = '''
import os, time
n = 0
try:
    while True:
        if os.fork() == 0:
            time.sleep(2)
            os._exit(0)
        n += 1
except OSError as e:
    print(TOKEN, n, e.errno)
'''


# -- the request mix: (weight, name, builder) ---------------------------------
# A builder returns (payload or raw bytes, admin?, check(status, doc) -> None
# or a string saying what is wrong).

def exec_ok(doc):
    return doc.get('execution_details') if isinstance(doc, dict) else None


def b_hello(tok, rnd):
    code = 'print("hello", %r)' % tok

    def chk(st, doc):
        ed = exec_ok(doc)
        if st != 200 or ed is None or ed.get('stdout') != 'hello %s\n' % tok:
            return 'hello: %s %s' % (st, doc)
    return {'code': code}, chk


def b_numpy(tok, rnd):
    n = rnd.randrange(1, 10 ** 6)
    code = 'import numpy\nprint(%r, int(numpy.arange(%d).sum()))' % (tok, n)

    def chk(st, doc):
        ed = exec_ok(doc)
        want = '%s %d\n' % (tok, n * (n - 1) // 2)
        if st != 200 or ed is None or ed.get('stdout') != want:
            return 'numpy: %s %s' % (st, doc)
    return {'code': code}, chk


def b_files(tok, rnd):
    data = (tok + '\n') * rnd.randrange(1, 200)
    code = ('d = open("in/data.txt").read()\n'
            'open("out.txt", "w").write(d.upper())\n'
            'print(len(d))\n')
    payload = {'code': code, 'attachments': [{
        'filename': 'in/data.txt',
        'content_base_64': base64.b64encode(data.encode()).decode()}],
        'return_files': ['out.txt', 'missing.txt']}

    def chk(st, doc):
        ed = exec_ok(doc)
        if st != 200 or ed is None or ed.get('stdout') != '%d\n' % len(data):
            return 'files: %s %s' % (st, doc)
        of = ed.get('output_files', {})
        got = of.get('out.txt', {}).get('content_base64')
        if got is None or base64.b64decode(got).decode() != data.upper():
            return 'files: returned file differs: %s' % of
        if 'error' not in of.get('missing.txt', {}):
            return 'files: missing.txt: %s' % of
    return payload, chk


def b_stdin(tok, rnd):
    text = tok * rnd.randrange(1, 50)
    code = 'import sys\nprint(sys.stdin.read()[::-1])'

    def chk(st, doc):
        ed = exec_ok(doc)
        if st != 200 or ed is None or ed.get('stdout') != text[::-1] + '\n':
            return 'stdin: %s %s' % (st, doc)
    return {'code': code, 'stdin_data': text}, chk


def error_check(name, status, etype):
    def chk(st, doc):
        t = (doc or {}).get('error_details', {}).get('type')
        if st != status or t != etype:
            return '%s: want %d %s, got %s %s' % (name, status, etype, st, doc)
    return chk


def b_invalid(tok, rnd):
    if rnd.random() < 0.5:
        return b'{"code": "print(1)", ' + tok.encode(), \
            error_check('bad json', 400, 'ValidationError')
    return {'code': 'print(1)', 'unknown_' + tok[:8]: 1}, \
        error_check('unknown field', 400, 'ValidationError')


def b_syntax(tok, rnd):
    return {'code': 'print(%r' % tok}, error_check('syntax', 400,
                                                     'SyntaxError')


def b_timeout(tok, rnd):
    code = 'print(%r, flush=True)\nwhile True:\n    pass\n' % tok

    def chk(st, doc):
        t = (doc or {}).get('error_details', {}).get('type')
        ed = (doc or {}).get('execution_details') or {}
        # '' too: on an overloaded machine the limit may come first.
        if st != 400 or t != 'TimeoutError' or \
                ed.get('stdout') not in (tok + '\n', ''):
            return 'timeout: %s %s' % (st, doc)
    return {'code': code}, chk


def slow_ok(st, doc):
    """A heavy run on a loaded machine may meet its wall-clock limit: a
    true answer, if it says so."""
    return st == 400 and (doc or {}).get('error_details', {}).get(
        'type') == 'TimeoutError'


def b_membomb(tok, rnd):
    def chk(st, doc):
        if slow_ok(st, doc):
            return None
        ed = exec_ok(doc)
        if st != 200 or ed is None or ed.get('oom_killed') is not True:
            return 'membomb: %s %s' % (st, doc)
        # v1: some children die (-9), the script prints; v2: all of it.
        if ed.get('termination') == 'exited':
            if not ed.get('stdout', '').startswith(tok) or \
                    '-9' not in ed['stdout']:
                return 'membomb: %s' % ed
        elif ed.get('termination') != 'memory_limit':
            return 'membomb: %s' % ed
    return {'code': 'TOKEN = %r\n' % tok + HOLD}, chk


def b_forkbomb(tok, rnd):
    def chk(st, doc):
        if slow_ok(st, doc):
            return None
        ed = exec_ok(doc)
        want = '%s %d 11\n' % (tok, MAX_PROCS - 1)
        if st != 200 or ed is None or ed.get('stdout') != want:
            return 'forkbomb: %s %s' % (st, doc)
    return {'code': 'TOKEN = %r\n' % tok + FORK}, chk


def b_flood(tok, rnd):
    code = 'import sys\nsys.stdout.write(%r * 200000)\n' % (tok[:16] + '\n')

    def chk(st, doc):
        ed = exec_ok(doc)
        if st != 200 or ed is None or ed.get('termination') not in (
                'output_limit', 'exited'):
            return 'flood: %s %s' % (st, (doc or {}).get('error_details'))
        out = ed.get('stdout', '')
        line = tok[:16] + '\n'
        if not out or (line * (len(out) // len(line) + 1))[:len(out)] != out:
            return 'flood: foreign bytes in the output'
    return {'code': code}, chk


MIX = [
    (30, 'hello', b_hello), (15, 'numpy', b_numpy), (12, 'files', b_files),
    (8, 'stdin', b_stdin), (10, 'invalid', b_invalid), (6, 'syntax', b_syntax),
    (2, 'timeout', b_timeout), (3, 'membomb', b_membomb),
    (3, 'forkbomb', b_forkbomb), (3, 'flood', b_flood),
]


# Sessions: one flow of several requests (create, two cells of which the
# second needs the first's variable and file, delete), chosen like a kind.
SESSION_WEIGHT = 5
REFUSALS = ('ServerBusy', 'ServiceUnavailable', 'SandboxUnavailable',
            'RateLimitExceeded')


STOP = threading.Event()     # the run was interrupted
END = [None]                 # --minutes: no new request after this moment


class Tally:
    def __init__(self):
        self.lock = threading.Lock()
        self.n = 0
        self.by_kind = collections.Counter()
        self.ok = 0
        self.slow = 0       # TimeoutError on a loaded machine, truthful
        self.refused = collections.Counter()
        self.wrong = []
        self.lost = []
        self.lat_ok = []
        self.charged = collections.Counter()   # public ip -> answers charged
        self.maybe = collections.Counter()     # ip -> answers lost after charge?

    def add(self, **kw):
        with self.lock:
            for k, v in kw.items():
                getattr(self, k).append(v)


def slow_but_true(doc, tok, kind):
    out = ((doc or {}).get('execution_details') or {}).get('stdout', '')
    if set(re.findall(r'tok[0-9a-f]{16}', out)) - {tok}:
        return False            # another request's output
    if kind == 'flood':
        return set(out) <= set(tok[:16] + '\n')
    return out == '' or tok in out


def charged(status, doc):
    """Did this public request reach the sandbox (so it was charged)?"""
    if status == 200:
        return True
    t = (doc or {}).get('error_details', {}).get('type')
    return status == 400 and t in ('SyntaxError', 'ForbiddenImportError',
                                   'TimeoutError')


def error_type(doc):
    return ((doc or {}).get('error_details') or {}).get('type')


def exchange(stack, tally, conn, kind, method, path, body, ip):
    """One request on a kept-alive connection (opened when conn is None).
    Returns (conn, answer): conn is None once closed; answer is (status,
    hdrs, doc, seconds), or None when the answer was lost (counted here:
    a worker that died after charging it leaves no answer, hence maybe).
    Every request is counted once, here."""
    headers = {'Content-Type': 'application/json'}
    if ip:
        headers['X-Forwarded-For'] = ip
    t0 = time.monotonic()
    # The longest run may last TIME_LIMIT, plus time to start and be
    # killed; past 60 s it is a hang.
    try:
        if conn is None:
            conn = stack.connection(timeout=60)
        conn.request(method, path, body=body, headers=headers)
        r = conn.getresponse()
        raw = r.read()
        hdrs = {k.lower(): v for k, v in r.getheaders()}
        if hdrs.get('connection', '').lower() == 'close':
            conn.close()
            conn = None
    except (OSError, http.client.HTTPException) as e:
        if conn is not None:
            conn.close()
        with tally.lock:
            tally.n += 1
            tally.by_kind[kind] += 1
            tally.lost.append('%s: %s after %.1fs' % (
                kind, e.__class__.__name__, time.monotonic() - t0))
            if len(tally.lost) <= 30:
                print('LOST', tally.lost[-1], flush=True)
            if ip:
                tally.maybe[ip] += 1
        return None, None
    lat = time.monotonic() - t0
    try:
        doc = json.loads(raw)
    except ValueError:
        doc = None
    with tally.lock:
        tally.n += 1
        tally.by_kind[kind] += 1
    return conn, (r.status, hdrs, doc, lat)


def refusal(tally, ans, ip, busy_ok=False):
    """Counts and returns the type of a documented refusal (503/429 of
    REFUSALS with Retry-After; with busy_ok, also 409 SessionBusy), or
    None when ans is no refusal."""
    st, hdrs, doc, _ = ans
    t = error_type(doc)
    if not ((st in (503, 429) and t in REFUSALS and hdrs.get('retry-after'))
            or (busy_ok and st == 409 and t == 'SessionBusy')):
        return None
    with tally.lock:
        tally.refused['%d %s' % (st, t)] += 1
        # nginx's 503 for a worker that died mid-request: it may have
        # been charged before it died; so may a cell still running (409).
        if ip and (t == 'ServiceUnavailable' or st == 409):
            tally.maybe[ip] += 1
    return t


def verdict(tally, why, ip, charged_now, lat):
    """Records a checked answer: why is None (right) or what is wrong."""
    with tally.lock:
        if why is not None:
            tally.wrong.append(why[:600])
            if len(tally.wrong) <= 30:
                print('WRONG', why[:600], flush=True)
        else:
            tally.ok += 1
            tally.lat_ok.append(lat)
            if ip and charged_now:
                tally.charged[ip] += 1


class SessionFlow:
    """One session's life as a client sees it, every answer checked.

    Faults strike the pool, never a keeper, so a session must outlive
    them: a 404 SessionNotFound for a live session is WRONG. A call cut
    by a worker's death (nginx's 503, or a dropped connection) may still
    be running in the session: the next call may then meet 409
    SessionBusy, retried; and a DELETE cut that way may have done its
    work: a 404 after it is right."""

    def __init__(self, stack, tally, rnd, conn):
        self.stack, self.tally, self.rnd, self.conn = stack, tally, rnd, conn
        self.requests = 0

    def attempt(self, kind, method, path, payload, ip, check, charged_now):
        """Up to 4 tries while refused. Returns 'ok', 'cut' (refused by a
        worker's death or lost: may have happened) or 'no'."""
        cut = False
        body = json.dumps(payload).encode() if payload is not None else None
        for _ in range(4):
            self.requests += 1
            self.conn, ans = exchange(self.stack, self.tally, self.conn, kind,
                                      method, path, body, ip)
            if ans is None:
                cut = True
            else:
                t = refusal(self.tally, ans, ip, busy_ok=cut)
                if t is None:
                    why = check(*ans[:3], cut)
                    verdict(self.tally, why, ip, charged_now, ans[3])
                    return 'ok' if why is None else 'no'
                cut = cut or t == 'ServiceUnavailable'
            time.sleep(self.rnd.uniform(0.05, 0.3))
        return 'cut' if cut else 'no'

    def run(self, tok, admin, ip):
        extra = {'api_key': self.stack.admin_key} if admin else {}
        sid = []

        def created(st, hdrs, doc, cut):
            if st != 201 or not isinstance((doc or {}).get('session_id'),
                                           str):
                return 'session create: %s %s' % (st, doc)
            sid.append(doc['session_id'])
        if self.attempt('session-create', 'POST', '/sessions', dict(extra),
                        ip, created, True) != 'ok':
            return              # refused, or a session nobody can name
        base = '/sessions/' + sid[0]
        cell1 = dict(extra, code='x = %r\nopen("f", "w").write(x)\n'
                     'print(x)\n' % tok)

        def first(st, hdrs, doc, cut):
            ed = exec_ok(doc)
            if st != 200 or ed is None or ed.get('stdout') != tok + '\n' or \
                    ed.get('error') is not None or \
                    ed.get('session_alive') is not True:
                return 'session cell 1: %s %s' % (st, doc)

        def second(st, hdrs, doc, cut):
            ed = exec_ok(doc)
            if st != 200 or ed is None or \
                    ed.get('result') != repr(tok + tok) or \
                    ed.get('error') is not None:
                return 'session cell 2: %s %s' % (st, doc)
        if self.attempt('session-cell', 'POST', base + '/execute', cell1, ip,
                        first, True) == 'ok':
            self.attempt('session-cell', 'POST', base + '/execute',
                         dict(extra, code='x + open("f").read()'), ip,
                         second, True)

        def deleted(st, hdrs, doc, cut):
            t = error_type(doc)
            if st == 200 or (cut and st == 404 and t == 'SessionNotFound'):
                return None
            return 'session delete: %s %s' % (st, doc)
        self.attempt('session-delete', 'DELETE', base, None, ip, deleted,
                     False)


def client(stack, tally, rnd, deadline_n, counter, lock):
    conn = None
    total = sum(w for w, _, _ in MIX) + SESSION_WEIGHT
    while True:
        with lock:
            if counter[0] >= deadline_n or STOP.is_set() or \
                    (END[0] is not None and time.monotonic() > END[0]):
                return
            counter[0] += 1
        x = rnd.randrange(total)
        if x < SESSION_WEIGHT:
            admin = rnd.random() < 0.5
            flow = SessionFlow(stack, tally, rnd, conn)
            flow.run('tok' + secrets.token_hex(8), admin,
                     None if admin else rnd.choice(PUBLIC_IPS))
            conn = flow.conn
            with lock:
                counter[0] += flow.requests - 1
            continue
        x -= SESSION_WEIGHT
        for w, kind, build in MIX:
            if x < w:
                break
            x -= w
        tok = 'tok' + secrets.token_hex(8)
        payload, chk = build(tok, rnd)
        # os is not on the public import list: bombs come from admins.
        admin = rnd.random() < 0.5 or kind in ('membomb', 'forkbomb')
        if isinstance(payload, dict):
            if admin:
                payload['api_key'] = stack.admin_key
            body = json.dumps(payload).encode()
        else:
            body = payload
            admin = False
        ip = None if admin else rnd.choice(PUBLIC_IPS)
        conn, ans = exchange(stack, tally, conn, kind, 'POST', '/execute',
                             body, ip)
        if ans is None:
            continue
        status, _, doc, lat = ans
        if refusal(tally, ans, ip):
            # a client that honours Retry-After, briefly
            time.sleep(rnd.uniform(0.05, 0.3))
        elif status == 400 and error_type(doc) == 'TimeoutError' and \
                kind not in ('timeout', 'invalid') and \
                slow_but_true(doc, tok, kind):
            # The wall-clock limit met on an overloaded machine: the
            # documented answer, with this request's output so far.
            with tally.lock:
                tally.slow += 1
                if ip:
                    tally.charged[ip] += 1
        else:
            verdict(tally, chk(status, doc), ip, charged(status, doc), lat)


# -- faults ---------------------------------------------------------------------
def stack_pids(stack, name):
    """Pids of processes called name in the stack's process tree. Never a
    session's keeper (a copy of the zygote or of a worker): the faults
    strike the pool, which sessions must outlive; a keeper killed is a
    session lost by design (test_sessions_keeper_kill)."""
    root = stack.procs[0].pid     # spawn-fcgi, which execs multiwatch
    kids = collections.defaultdict(list)
    comm = {}
    for st in procfs.all_stats():
        kids[st.ppid].append(st.pid)
        # A session leader is a session's keeper (it setsid()s).
        comm[st.pid] = 'keeper' if st.session == st.pid else st.comm
    # Where the real ones sit: a worker is multiwatch's child, a zygote a
    # worker's. A keeper between its fork and its setsid is a copy with
    # the same name one level further down: never a target.
    workers = set(kids.get(root, []))
    where = workers if name == 'pyexec-fcgi' else \
        {k for w in workers for k in kids.get(w, [])}
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        if comm.get(p, '').startswith(name) and p in where and \
                not in_jail(p):
            out.append(p)
        todo.extend(kids.get(p, []))
    return out


def in_jail(pid):
    """A jail's processes are copies of the zygote (same name) in a PID
    namespace of their own: never the target of a zygote fault."""
    try:
        with open('/proc/%d/status' % pid) as f:
            for line in f:
                if line.startswith('NSpid:'):
                    return len(line.split()) > 2
    except OSError:
        pass
    return True


class Pool:
    """The pool's capacity as the clients meet it, and its restarts.

    multiwatch gives up a worker that died within 10 s of its start more
    than 3 times in a row, and exits once it has given up all of them;
    pyexec.service's Restart=always (RestartSec=2s) then starts a new
    pool. The faults here (a SIGKILLed worker every ~8 s, the whole pool
    every ~36 s) make that happen, so the soak does what systemd does,
    and reports how many workers were alive, second by second: answers
    from a pool with no worker are nginx's 503s, true but no test of the
    sandbox."""

    def __init__(self, stack):
        self.stack = stack
        self.samples = [stack.workers]
        self.restarts = 0
        self.gone_since = None

    def tick(self):
        self.samples.append(len(stack_pids(self.stack, 'pyexec-fcgi')))
        if self.stack.procs[0].poll() is None:
            self.gone_since = None
            return
        if self.gone_since is None:
            self.gone_since = time.monotonic()
        elif time.monotonic() - self.gone_since >= 2:     # RestartSec=2s
            self.restart_now()

    def restart_now(self):
        if self.stack.restart_pool_if_gone():
            self.restarts += 1
            self.gone_since = None

    def report(self):
        log = self.stack.worker_log_text() if self.stack.base else ''
        n = self.samples
        return {'restarts_after_multiwatch_exited': self.restarts,
                'workers_given_up_by_multiwatch':
                    log.count('not forking again'),
                'workers_alive_mean': round(sum(n) / len(n), 2),
                'seconds_with_no_worker': sum(1 for x in n if x == 0),
                'seconds_below_half': sum(1 for x in n
                                          if x < self.stack.workers / 2),
                'seconds_sampled': len(n)}


class Faults(threading.Thread):
    def __init__(self, stack, statedir, every, rnd):
        super().__init__(daemon=True)
        self.stack, self.statedir, self.every, self.rnd = \
            stack, statedir, every, rnd
        self.stop = threading.Event()
        self.done = collections.Counter()
        self.db = os.path.join(statedir, 'ratelimit.sqlite')

    def kill_one(self, name):
        """False when there was nothing to kill (counted apart)."""
        pids = stack_pids(self.stack, name)
        if pids:
            try:
                os.kill(self.rnd.choice(pids), signal.SIGKILL)
            except ProcessLookupError:
                pass
        return bool(pids)

    def fill(self):
        path = os.path.join(self.statedir, 'filler')
        try:
            with open(path, 'wb') as f:
                while True:
                    f.write(b'\0' * (1 << 20))
        except OSError:
            pass
        self.stop.wait(self.rnd.uniform(1, 4))
        os.unlink(path)

    def lock(self):
        c = sqlite3.connect(self.db, timeout=10, isolation_level=None)
        try:
            c.execute('BEGIN EXCLUSIVE')
            self.stop.wait(self.rnd.uniform(1, 4))
            c.execute('ROLLBACK')
        finally:
            c.close()

    def corrupt(self):
        """Breaks the database file and restores it, all under one
        exclusive lock: workers that open the store or read it meanwhile
        meet a corrupt file (503), and the restore cannot roll back a
        charge made in between, so the counters stay exact."""
        files = sorted(glob.glob(self.db + '*'))
        saved = {}
        c = sqlite3.connect(self.db, timeout=10, isolation_level=None)
        try:
            c.execute('BEGIN EXCLUSIVE')
            for f in files:
                if not f.endswith('-shm'):
                    with open(f, 'rb') as fh:
                        saved[f] = fh.read()
            for f in saved:
                with open(f, 'r+b') as fh:
                    fh.write(b'\xde\xad' * 2048)
            self.stop.wait(self.rnd.uniform(1, 3))
            for f, data in saved.items():
                with open(f, 'r+b') as fh:
                    fh.write(data)
                    fh.truncate()
            c.execute('ROLLBACK')
        finally:
            c.close()

    def run(self):
        kinds = ['kill_worker'] * 4 + ['kill_zygote'] * 4 + \
            ['fill', 'lock', 'corrupt', 'kill_pool']
        while not self.stop.wait(self.rnd.expovariate(1.0 / self.every)):
            k = self.rnd.choice(kinds)
            try:
                if k in ('kill_worker', 'kill_zygote'):
                    if not self.kill_one('pyexec-fcgi' if k == 'kill_worker'
                                         else 'pyexec-zygote'):
                        k += ' (no target)'
                elif k == 'fill':
                    self.fill()
                elif k == 'lock':
                    self.lock()
                elif k == 'corrupt':
                    self.corrupt()
                elif k == 'kill_pool':
                    for p in stack_pids(self.stack, 'pyexec-fcgi'):
                        try:
                            os.kill(p, signal.SIGKILL)
                        except ProcessLookupError:
                            pass
                self.done[k] += 1
            except (OSError, sqlite3.Error) as e:
                self.done[k + ' (failed: %s)' % e.__class__.__name__] += 1


# -- after ----------------------------------------------------------------------
def check_counters(db, tally, restored):
    """Per public address: the day's counter in the store must be at least
    the answers that say they were charged, and at most that plus the
    requests whose worker died (charged, then no answer). Returns a list of
    mismatches. After a corruption was repaired by restoring a copy
    (restored > 0), charges made meanwhile may be gone with the copy (an
    SQLite checkpoint by a worker can land between copy and restore), so
    only overcharging is a mismatch then."""
    day = int(time.time()) // 86400
    try:
        c = sqlite3.connect(db)
        try:
            rows = dict(c.execute('SELECT ip, n FROM daily WHERE day = ?',
                                  (day,)))
        finally:
            c.close()
    except sqlite3.Error as e:
        return ['the store cannot be read: %s' % e]
    bad = []
    for ip in PUBLIC_IPS:
        n, lo, hi = rows.get(ip, 0), tally.charged[ip], \
            tally.charged[ip] + tally.maybe[ip]
        if n > hi or (n < lo and not restored):
            bad.append('%s: store %d, charged answers %d, + maybe %d' % (
                ip, n, lo, tally.maybe[ip]))
    return bad


def leftover_jails(stack):
    """Jail mount points of workers that are gone, while the stack runs."""
    jails = os.path.join(stack.base, 'jails')
    left = []
    for name in os.listdir(jails):
        m = re.match(r'jail\.(\d+)\.', name)
        if m and not os.path.exists('/proc/' + m.group(1)):
            left.append('jail directory of a dead worker: ' + name)
    return left


def leftovers(stack, base, cgroups):
    # Jails of a stopping pool die with their workers, asynchronously.
    deadline = time.monotonic() + 30
    while True:
        left = leftovers_once(stack, base, cgroups)
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.5)


def leftovers_once(stack, base, cgroups):
    left = []
    for p in os.listdir('/proc'):
        if not p.isdigit():
            continue
        try:
            with open('/proc/%s/cmdline' % p, 'rb') as f:
                cmd = f.read()
        except OSError:
            continue
        if base.encode() in cmd:
            left.append('process %s: %s' % (p, cmd[:100]))
    with open('/proc/self/mountinfo') as f:
        for line in f:
            if base in line:
                left.append('mount: ' + line.split()[4])
    for d in cgroups:
        for sub, _, _ in os.walk(d):
            try:
                with open(os.path.join(sub, 'cgroup.procs')) as f:
                    procs = f.read().split()
            except OSError:
                continue
            if procs:
                left.append('cgroup %s: %s' % (sub, procs))
    jails = os.path.join(base, 'jails')
    for name in (os.listdir(jails) if os.path.isdir(jails) else []):
        if name.startswith('slot'):
            try:
                with open(os.path.join(jails, name), 'r+') as f:
                    fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                left.append('slot held: ' + name)
    return left


def pct(v, q):
    if not v:
        return float('nan')
    v = sorted(v)
    return v[min(len(v) - 1, int(q * len(v)))]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--requests', type=int, default=100000)
    ap.add_argument('--short', action='store_true',
                    help='about 2,000 requests (the suite\'s version)')
    ap.add_argument('--minutes', type=float, default=None,
                    help='stop sending new requests after this long, '
                    'then finish and report as usual')
    ap.add_argument('--concurrency', type=int, default=8)
    ap.add_argument('--mode', default='zygote', choices=('zygote', 'exec'))
    ap.add_argument('--fault-every', type=float, default=3.0)
    ap.add_argument('--seed', type=int, default=None)
    ap.add_argument('--workers', type=int, default=8)
    ap.add_argument('--worker-log', default='/tmp/pyexec-soak-workers.log',
                    help='where the workers\' log is kept afterwards')
    a = ap.parse_args()
    if a.short:
        a.requests = 2000
    # SIGTERM (timeout(1), CI) must still stop the stack and unmount.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    seed = a.seed if a.seed is not None else random.randrange(1 << 30)
    print('soak: %d requests, concurrency %d, mode %s, a fault every %.1f s '
          'on average, seed %d' % (a.requests, a.concurrency, a.mode,
                                   a.fault_every, seed), flush=True)

    statedir = '/run/pyexec-soak-state-%d' % os.getpid()
    os.mkdir(statedir, 0o700)
    pw = pwd.getpwnam('pyexec')
    subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=16m,mode=0700,'
                    'uid=%d,gid=%d' % (pw.pw_uid, pw.pw_gid),
                    'pyexec-soak', statedir], check=True)
    stack = Stack(config={
        'mode': a.mode, 'time_limit_seconds': TIME_LIMIT,
        'memory_limit_mb': MEM_MB, 'max_processes': MAX_PROCS,
        'rate_limit_per_minute': 60, 'daily_quota': 10 ** 8,
        'max_concurrent': 6, 'state_dir': statedir,
        # A session whose creation was cut (its id never reached us) or
        # whose DELETE kept being refused ends by itself, soon.
        'session_idle_seconds': 60},
        workers=a.workers, admin_key='soak-' + secrets.token_hex(16))
    report = {}
    t_start = time.monotonic()
    tally, faults, counters, elapsed, jail_left = Tally(), None, [], 0, []
    pool = None
    try:
        stack.start(ready_timeout=600)
        faults = Faults(stack, statedir, a.fault_every, random.Random(seed))
        pool = Pool(stack)
        faults.start()
        counter, lock = [0], threading.Lock()
        threads = [threading.Thread(target=client, args=(
            stack, tally, random.Random(seed + i + 1), a.requests, counter,
            lock)) for i in range(a.concurrency)]
        last = time.monotonic()
        if a.minutes:
            END[0] = last + a.minutes * 60
        for t in threads:
            t.start()
        while any(t.is_alive() for t in threads):
            time.sleep(1)
            pool.tick()
            if time.monotonic() - last > 30:
                last = time.monotonic()
                print('   %d answers, %d wrong, %d lost, workers %d, '
                      'faults %s' % (tally.n, len(tally.wrong),
                                     len(tally.lost), pool.samples[-1],
                                     dict(faults.done)), flush=True)
        faults.stop.set()
        faults.join()
        pool.restart_now()
        elapsed = time.monotonic() - t_start
        # Quiet traffic, checked like the rest, in which the workers do
        # their housekeeping (every 8 requests each) before the checks.
        counter[0] = 0
        END[0] = None
        drain = [threading.Thread(target=client, args=(
            stack, tally, random.Random(seed - i - 1), 25 * a.workers,
            counter, lock)) for i in range(4)]
        for t in drain:
            t.start()
        for t in drain:
            t.join()
        jail_left = leftover_jails(stack)
        time.sleep(2)       # a killed worker's jail may still be dying
        counters = check_counters(os.path.join(statedir, 'ratelimit.sqlite'),
                                  tally, faults.done['corrupt'])
    finally:
        # Interrupted (SIGTERM): no client may go on against a stopped
        # stack, nor a fault strike while it stops.
        STOP.set()
        if faults is not None:
            faults.stop.set()
            faults.join()
        stack.stop()
        left = jail_left + leftovers(stack, stack.base or '',
                                     getattr(stack, 'cgroups', []))
        if stack.base and os.path.exists(stack.worker_log):
            shutil.copy(stack.worker_log, a.worker_log)
        pool_report = pool.report() if pool else {}     # reads the log
        stack.cleanup()
        subprocess.run(['umount', statedir])
        os.rmdir(statedir)
    report = {
        'requests': tally.n, 'seconds': round(elapsed),
        'by_kind': dict(tally.by_kind), 'correct': tally.ok,
        'timed_out_truthfully': tally.slow,
        'wrong': len(tally.wrong), 'lost': len(tally.lost),
        'refused': dict(tally.refused),
        'faults': dict(faults.done) if faults else {},
        'latency_ok_s': {'p50': round(pct(tally.lat_ok, .5), 3),
                         'p95': round(pct(tally.lat_ok, .95), 3),
                         'p99': round(pct(tally.lat_ok, .99), 3),
                         'max': round(max(tally.lat_ok or [0]), 3)},
        'counter_mismatches': counters, 'leftovers': left,
        'pool': pool_report,
    }
    print(json.dumps(report, indent=1))
    for w in tally.wrong[:20]:
        print('WRONG', w)
    for w in tally.lost[:20]:
        print('LOST', w)
    good = not tally.wrong and not tally.lost and not left and not counters
    print('soak: %s (%d requests, %d wrong, %d lost, %d leftovers, %d '
          'counter mismatches)' % ('PASS' if good else 'FAIL', tally.n,
                                   len(tally.wrong), len(tally.lost),
                                   len(left), len(counters)))
    return 0 if good else 1


if __name__ == '__main__':
    sys.exit(main())
