"""escape_util.py: helpers shared by the attack files in tests/escape/.

It lives here, not in tests/escape/, because every *.py there is an attack
file. Everything goes through the real stack (nginx + the FastCGI workers)
with the admin key: admin lifts the import policy only, never the sandbox.

Conventions used by the attack files:
  * run(stack, code, ...) -> (status, doc); details(doc) is the
    execution_details object.
  * report(stack, code, ...) runs a script that ends by printing one JSON
    line (usually a dict of probe -> outcome) and returns it parsed.
  * The in-jail helpers (PRELUDE) turn every probe into a short string:
    "ok:..." when the probe succeeded, "errno:EPERM" and the like when it
    failed, "killed:SIGSYS" when the probing child was killed.
  * The host-side helpers look at the stack's own process tree (the
    multiwatch process spawn-fcgi exec'd, its workers, and their
    descendants, which is where every jail process lives), so other stacks
    running on the same host do not disturb the checks.
"""
import json
import os
import signal
import threading
import time

import procfs

# Python source prepended to scripts that probe syscalls and files.
PRELUDE = r'''
import ctypes, errno, json, os, signal, sys
_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long

def _ename(e):
    return errno.errorcode.get(e, str(e))

def sc(nr, *args):
    """Raw syscall; "ret:N" or "errno:NAME"."""
    conv = []
    for a in args:
        conv.append(ctypes.c_long(a) if isinstance(a, int) else a)
    ctypes.set_errno(0)
    r = _libc.syscall(ctypes.c_long(nr), *conv)
    if r == -1:
        return 'errno:' + _ename(ctypes.get_errno())
    return 'ret:%d' % r

def attempt(fn, *args, **kw):
    """Calls fn; "ok:<repr of the result, short>" or "errno:NAME"."""
    try:
        r = fn(*args, **kw)
    except OSError as e:
        return 'errno:' + (_ename(e.errno) if e.errno else type(e).__name__)
    except Exception as e:
        return 'exc:%s:%s' % (type(e).__name__, str(e)[:80])
    return 'ok:' + repr(r)[:120]

def in_child(fn):
    """Runs fn() in a forked child: "exit:N", "killed:SIGNAME" or the
    string fn returned (passed back through a pipe)."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            out = str(fn())
        except BaseException as e:
            out = 'exc:%s:%s' % (type(e).__name__, str(e)[:80])
        os.write(w, out.encode()[:4000])
        os._exit(0)
    os.close(w)
    data = b''
    while True:
        b = os.read(r, 4096)
        if not b:
            break
        data += b
    os.close(r)
    _, st = os.waitpid(pid, 0)
    if os.WIFSIGNALED(st):
        return 'killed:' + signal.Signals(os.WTERMSIG(st)).name
    if data:
        return data.decode(errors='replace')
    return 'exit:%d' % os.WEXITSTATUS(st)

R = {}
def done():
    print(json.dumps(R, sort_keys=True))
'''

DENIED = ('errno:EPERM', 'errno:ENOSYS', 'errno:EACCES')

# Every attack file's CONFIG starts from this. The probes (with PRELUDE)
# are longer than the default max_code_chars; that limit is request
# validation, not confinement, so raising it changes nothing under test.
BASE_CONFIG = {'max_code_chars': 20000}


# Attacks that do real work (walk all of /usr, fill memory page by page)
# take seconds on a machine slow at page faults or with a large /usr: a far
# deadline, so that a timeout never passes for the outcome under test. The
# same settings as tests/integration/test_limits_resources.py: one stack.
FAR_DEADLINE = {'time_limit_seconds': 60, 'memory_limit_mb': 192}


def config(**overrides):
    c = dict(BASE_CONFIG)
    c.update(overrides)
    return c


# True while tests/run.py re-runs an attack inside a session (the
# "[session]" runs): run() then sends the code as a cell of a fresh session
# instead of a one-shot /execute.
SESSION = False

# Fields a cell takes as /execute does; attachments go to the session.
_CELL_FIELDS = ('stdin_data', 'return_files')


def run(stack, code, admin=True, timeout=120, **fields):
    """POST /execute; returns (status, doc), doc {} when not JSON."""
    if SESSION:
        return _run_in_session(stack, code, admin, timeout, **fields)
    payload = {'code': code}
    payload.update(fields)
    if admin:
        payload['api_key'] = stack.admin_key
    status, doc, _ = stack.execute(payload, timeout=timeout)
    return status, doc or {}


def _session_call(stack, method, path, payload, timeout):
    body = json.dumps(payload).encode() if payload is not None else None
    h = {'Content-Type': 'application/json'} if body is not None else {}
    status, _, data = stack.request(method, path, body, h, timeout=timeout)
    try:
        return status, json.loads(data)
    except ValueError:
        return status, {}


def _run_in_session(stack, code, admin, timeout, **fields):
    """The same attack as one cell of a new session, released after. A
    cell's answer has /execute's execution_details; a cell that raised
    has exit_code 1, as a script would."""
    odd = set(fields) - set(_CELL_FIELDS) - {'attachments'}
    assert not odd, 'no session form for %s' % sorted(odd)
    made = {'api_key': stack.admin_key} if admin else {}
    if fields.get('attachments'):
        made['attachments'] = fields['attachments']
    status, doc = _session_call(stack, 'POST', '/sessions', made, timeout)
    if status != 201:
        return status, doc		# refused, as /execute would refuse it
    sid = doc['session_id']
    try:
        cell = {k: v for k, v in fields.items() if k in _CELL_FIELDS}
        cell['code'] = code
        if admin:
            cell['api_key'] = stack.admin_key
        status, doc = _session_call(stack, 'POST',
                                    '/sessions/%s/execute' % sid, cell,
                                    timeout)
        d = doc.get('execution_details') or {}
        err = d.get('error')
        if isinstance(err, dict):
            # Where a script's uncaught exception would be: on stderr.
            d['stderr'] = (d.get('stderr') or '') + \
                (err.get('traceback') or '') + '%s: %s\n' % (
                    err.get('type'), err.get('message'))
        return status, doc
    finally:
        _session_call(stack, 'DELETE', '/sessions/' + sid, None, timeout)


def work_files():
    """What a run finds in /work before it writes: its script, or nothing
    in a session cell (the code is not a file there)."""
    return [] if SESSION else ['script.py']


def timed_out(status, doc):
    """The time limit ended the run: a 400 TimeoutError from /execute, or
    (in a session) a 200 whose cell was interrupted or killed."""
    term = (doc.get('execution_details') or {}).get('termination')
    if SESSION:
        return status == 200 and term in ('timeout', 'cpu_limit')
    return status == 400 and term in ('timeout', 'cpu_limit')


def grace():
    """Seconds a run may take past its time limit before it is killed: a
    session's cell is interrupted first, then killed 3 s later."""
    return 3 if SESSION else 0


def keepers():
    """Processes of a run's tree outside its jail: a session's keeper."""
    return 1 if SESSION else 0


def requests_per_run():
    """Requests the harness makes for one run() (log lines with role=)."""
    return 3 if SESSION else 1


def details(doc):
    return doc.get('execution_details') or {}


def describe(status, doc):
    """A short account of a reply, for assertion messages."""
    d = details(doc)
    return ('HTTP %s error=%s termination=%s exit=%s signal=%s\n'
            'stdout: %r\nstderr: %r' % (
                status, (doc.get('error_details') or {}).get('type'),
                d.get('termination'), d.get('exit_code'), d.get('signal'),
                (d.get('stdout') or '')[-1500:],
                (d.get('stderr') or '')[-1500:]))


def run_ok(stack, code, **kw):
    """Runs code that must exit 0; returns execution_details."""
    status, doc = run(stack, code, **kw)
    d = details(doc)
    assert status == 200 and d.get('termination') == 'exited' and \
        d.get('exit_code') == 0, describe(status, doc)
    return d


def report(stack, code, prelude=True, **kw):
    """Runs code that ends by printing one JSON line; returns it parsed."""
    d = run_ok(stack, (PRELUDE if prelude else '') + code, **kw)
    lines = (d.get('stdout') or '').strip().splitlines()
    assert lines, 'no report on stdout: %r' % d
    return json.loads(lines[-1])


def assert_all(results, ok, what):
    """Every probe in results must satisfy ok(value)."""
    bad = {k: v for k, v in results.items() if not ok(v)}
    assert not bad, '%s: %s' % (what, json.dumps(bad, indent=1,
                                                 sort_keys=True))


def assert_denied(results, allowed=DENIED):
    assert_all(results, lambda v: v in allowed,
               'probes that were not denied (%s)' % '/'.join(allowed))


# -- the host side -------------------------------------------------------
def proc_table():
    """{pid: (ppid, uid, comm)} of every process on the host."""
    out = {}
    for st in procfs.all_stats():
        try:
            out[st.pid] = (st.ppid, os.stat('/proc/%d' % st.pid).st_uid,
                           st.comm)
        except OSError:
            continue
    return out


def multiwatch_pid(stack):
    # spawn-fcgi -n execs multiwatch in the process Popen started.
    return stack.procs[0].pid


def worker_pids(stack, table=None):
    table = table if table is not None else proc_table()
    mw = multiwatch_pid(stack)
    return {p for p, (pp, _, _) in table.items() if pp == mw}


def _host_pidns(pid):
    try:
        return os.readlink('/proc/%d/ns/pid' % pid) == os.readlink('/proc/self/ns/pid')
    except OSError:
        return False


def zygote_pids(stack, table=None):
    """mode = zygote: each worker's warm interpreter, part of the pool. It
    lives in the host's PID namespace; every jail has a new one."""
    table = table if table is not None else proc_table()
    workers = worker_pids(stack, table)
    return {p for p, (pp, _, comm) in table.items()
            if pp in workers and comm == 'pyexec-zygote' and _host_pidns(p)}


# read(2)'s number, for /proc/<pid>/syscall
_READ_NR = {'x86_64': 0, 'aarch64': 63}.get(os.uname().machine)


def _waits_for_request(pid):
    """Is pid blocked in read(4, ...), where a pre-built jail's Python
    child waits for its request?"""
    try:
        with open('/proc/%d/syscall' % pid) as f:
            f = f.read().split()
    except OSError:
        return False
    return len(f) > 1 and f[0] == str(_READ_NR) and int(f[1], 16) == 4


def _fd_link(pid, fd):
    try:
        return os.readlink('/proc/%d/fd/%d' % (pid, fd))
    except OSError:
        return None


def prebuilt_jails(stack, table=None):
    """mode = zygote: the jail an idle worker built for its next run
    (src/run/supervise.c, struct spare), in which no code has run: a
    worker's child (init) with one child of its own, named pyexec-spare,
    blocked reading its request on fd 4 from a pipe whose other end that
    worker holds (it closes a run's as soon as it has sent the request,
    so nothing a finished run left behind can pass for one), and at most
    one such per worker. Their pids."""
    table = table if table is not None else proc_table()
    out = set()
    for w in worker_pids(stack, table):
        try:
            held = {_fd_link(w, int(fd)) for fd in os.listdir('/proc/%d/fd' % w)}
        except OSError:
            continue
        found = []
        for p, (pp, _, comm) in table.items():
            if pp != w or comm not in ('pyexec-init', 'pyexec-zygote') or \
                    _host_pidns(p):
                continue
            kids = [k for k, (kp, _, _) in table.items() if kp == p]
            if len(kids) != 1 or table[kids[0]][2] != 'pyexec-spare':
                continue
            pipe = _fd_link(kids[0], 4)
            if pipe and pipe.startswith('pipe:') and pipe in held and \
                    _waits_for_request(kids[0]):
                found.append({p, kids[0]})
        if len(found) == 1:
            out |= found[0]
    return out


def prebuilt_jail_dirs(stack, table=None):
    """The mount points (names in runtime_dir) of the idle pre-built jails:
    jail.<worker pid>.spare.*, of a worker that holds one such jail now
    (prebuilt_jails), at most one per worker. A run's mount point, or a
    pre-built jail's once a run has used it, is gone after that run."""
    table = table if table is not None else proc_table()
    idle = prebuilt_jails(stack, table)
    holders = {table[p][0] for p in idle if p in table}
    rd = os.path.join(stack.base, 'jails')
    by_worker = {}
    for n in os.listdir(rd):
        parts = n.split('.')
        if len(parts) == 4 and parts[0] == 'jail' and parts[2] == 'spare' \
                and parts[1].isdigit() and int(parts[1]) in holders:
            by_worker.setdefault(int(parts[1]), []).append(n)
    return {ns[0] for ns in by_worker.values() if len(ns) == 1}


def jail_pids(stack, table=None):
    """Every process below a worker: jail inits and what they started,
    except the idle pre-built jails (prebuilt_jails), which no run has
    started anything in."""
    table = table if table is not None else proc_table()
    pool = worker_pids(stack, table) | zygote_pids(stack, table)
    frontier = pool
    found = set()
    while frontier:
        nxt = {p for p, (pp, _, _) in table.items() if pp in frontier}
        nxt -= found | pool
        found |= nxt
        frontier = nxt
    return found - prebuilt_jails(stack, table)


def describe_pids(pids, table=None):
    table = table if table is not None else proc_table()
    return ', '.join('%d(%s uid=%s)' % (p, table[p][2], table[p][1])
                     for p in sorted(pids) if p in table)


def wait_no_jail_procs(stack, timeout=3.0):
    """Waits until no process is left below the workers; returns leftovers."""
    deadline = time.time() + timeout
    while True:
        t = proc_table()
        left = jail_pids(stack, t)
        if not left or time.time() > deadline:
            return describe_pids(left, t)
        time.sleep(0.05)


def host_comm(marker):
    """Host processes (any user, any stack) whose comm is marker."""
    return sorted(p for p, (_, _, c) in proc_table().items() if c == marker)


def assert_healthy(stack, workers=None):
    """The stack still answers a trivial run; with workers (a set of
    worker pids taken earlier), none of them died or was replaced."""
    if workers is not None:
        now = worker_pids(stack)
        assert now == workers, ('workers changed: before %s, after %s'
                                % (sorted(workers), sorted(now)))
    d = run_ok(stack, 'print(6 * 7)')
    assert d['stdout'] == '42\n', d


def run_raw(stack, code, timeout=60):
    """POST /execute as admin; returns (status, raw body): for tests that
    must measure the reply itself, not just parse it."""
    body = json.dumps({'code': code, 'api_key': stack.admin_key}).encode()
    status, _, raw = stack.request('POST', '/execute', body,
                                   {'Content-Type': 'application/json'},
                                   timeout=timeout)
    return status, raw


def assert_output_flood(stack, stream):
    """200 MB on stream ('stdout' or 'stderr') from the script and a
    forked child at once: the run stops at the cap, the reply stays
    bounded, quickly, and the worker survives."""
    code = ('import os, sys\n'
            'chunk = b"A" * (1 << 20)\n'
            'os.fork()\n'
            'for i in range(200):\n'
            '    sys.%s.buffer.write(chunk)\n'
            'sys.%s.write("finished writing")\n' % (stream, stream))
    cap = int(stack.config.get('max_output_bytes', 1048576))
    workers = worker_pids(stack)
    status, raw = run_raw(stack, code)
    assert len(raw) <= cap + 64 * 1024, 'response is %d bytes' % len(raw)
    doc = json.loads(raw)
    d = doc['execution_details']
    assert status == 200, (status, doc.get('error_details'))
    assert d['termination'] == 'output_limit', d['termination']
    assert d[stream + '_truncated'] is True, d
    assert len(d[stream].encode()) <= cap, len(d[stream])
    assert 'finished writing' not in d[stream]
    # Stopped at the cap, long before the deadline.
    tl = int(stack.config.get('time_limit_seconds', 10))
    assert d['execution_duration_sec'] < min(stack.slack(), tl - 1), \
        d['execution_duration_sec']
    assert_healthy(stack, workers)


class Background(threading.Thread):
    """Runs one request in a thread; .result is (status, doc, seconds)."""

    def __init__(self, stack, code, **kw):
        super().__init__(daemon=True)
        self.stack, self.code, self.kw = stack, code, kw
        self.result = None
        self.error = None

    def run(self):
        t0 = time.time()
        try:
            status, doc = run(self.stack, self.code, **self.kw)
            self.result = (status, doc, time.time() - t0)
        except Exception as e:  # reported by the test that joins
            self.error = e

    def get(self, timeout=120):
        self.join(timeout)
        assert not self.is_alive(), 'background request did not finish'
        if self.error:
            raise self.error
        return self.result


def sig_name(n):
    try:
        return signal.Signals(n).name
    except (ValueError, TypeError):
        return str(n)
