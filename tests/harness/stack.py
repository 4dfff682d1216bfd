"""stack.py: starts and stops the real pyexec stack on loopback.

The same code serves `./dev.sh run` and the test suite, so what developers
run is what the tests test: nginx (TLS, flood limit, realip, JSON error
pages) in front of a spawn-fcgi + multiwatch pool of pyexec-fcgi workers
running as the unprivileged `pyexec` user, every piece rendered into a
private run directory under /run. Needs root (to start nginx's master and
let spawn-fcgi drop to `pyexec`); touches nothing in /etc.

    python3 tests/harness/stack.py run [--port 8443] [--config FILE]
"""
import argparse
import http.client
import json
import os
import pwd
import grp
import re
import resource
import shutil
import secrets
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BINARY = os.environ.get('PYEXEC_BINARY', os.path.join(REPO, 'build', 'src', 'pyexec-fcgi'))
ZYGOTE = os.path.join(os.path.dirname(BINARY), 'pyexec-zygote')
UIDMAP = os.path.join(os.path.dirname(BINARY), 'pyexec-uidmap')
SERVICE_USER = 'pyexec'
NGINX_USER = 'www-data'


def ensure_user():
    """The unprivileged system user the workers run as."""
    try:
        pwd.getpwnam(SERVICE_USER)
    except KeyError:
        subprocess.run(['useradd', '--system', '--no-create-home',
                        '--home-dir', '/nonexistent', '--shell',
                        '/usr/sbin/nologin', SERVICE_USER], check=True)


SUBID_COUNT = 65536


def subid_range(path, name):
    """(start, count) of name's first range in /etc/subuid or /etc/subgid."""
    try:
        with open(path) as f:
            for line in f:
                parts = line.strip().split(':')
                if len(parts) == 3 and parts[0] == name:
                    return int(parts[1]), int(parts[2])
    except FileNotFoundError:
        pass
    return None


def ensure_subids():
    """A subordinate uid and gid range for the service user, as the Debian
    package's postinst makes one: pyexec-uidmap gives each run slot one id
    of it. Placed after every range already allocated."""
    if subid_range('/etc/subuid', SERVICE_USER) and \
            subid_range('/etc/subgid', SERVICE_USER):
        return
    end = 100000
    for path in ('/etc/subuid', '/etc/subgid'):
        try:
            with open(path) as f:
                for line in f:
                    parts = line.strip().split(':')
                    if len(parts) == 3 and parts[1].isdigit() and \
                            parts[2].isdigit():
                        end = max(end, int(parts[1]) + int(parts[2]))
        except FileNotFoundError:
            pass
    start = -(-end // SUBID_COUNT) * SUBID_COUNT
    span = '%d-%d' % (start, start + SUBID_COUNT - 1)
    subprocess.run(['usermod', '--add-subuids', span, '--add-subgids', span,
                    SERVICE_USER], check=True)


def ensure_cert(directory):
    """A self-signed certificate for 127.0.0.1/localhost, made once."""
    os.makedirs(directory, mode=0o700, exist_ok=True)
    cert = os.path.join(directory, 'cert.pem')
    key = os.path.join(directory, 'key.pem')
    if not (os.path.exists(cert) and os.path.exists(key)):
        subprocess.run(['openssl', 'req', '-x509', '-newkey', 'ec',
                        '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
                        '-keyout', key, '-out', cert, '-days', '825',
                        '-subj', '/CN=localhost', '-addext',
                        'subjectAltName=IP:127.0.0.1,DNS:localhost'],
                       check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        os.chmod(key, 0o600)
    return cert, key


CGROUP_V1 = ('memory', 'pids', 'cpuacct')


def cgroup_v1_dirs(name):
    """Where a delegated v1 cgroup called name would go, per controller."""
    mounts = {}
    with open('/proc/self/mountinfo') as f:
        for line in f:
            pre, _, post = line.partition(' - ')
            fields, sfields = pre.split(), post.split()
            if sfields and sfields[0] == 'cgroup':
                for opt in sfields[2].split(','):
                    if opt in CGROUP_V1:
                        mounts[opt] = fields[4]
    own = {}
    with open('/proc/self/cgroup') as f:
        for line in f:
            _, ctls, path = line.rstrip('\n').split(':', 2)
            for c in ctls.split(','):
                own[c] = path
    return {c: os.path.join(mounts[c] + own.get(c, '/').rstrip('/'), name)
            for c in CGROUP_V1 if c in mounts and c in own}


# TEST-NET-2, through X-Forwarded-For (the test stack trusts loopback as
# its proxy): run_cost()'s requests are charged to no address a test uses.
CALIBRATION_IP = '198.51.100.250'


def _alive(pid):
    try:
        with open('/proc/%d/status' % pid) as f:
            return 'State:\tZ' not in f.read()
    except OSError:
        return False


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def parse_conf(text):
    keys = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith('#') and '=' in line:
            k, _, v = line.partition('=')
            keys[k.strip()] = v.strip()
    return keys


# Called with (method, path, status, headers, body) for every response the
# harness receives (tests/run.py checks each against openapi.json).
RESPONSE_HOOK = None


def render(template, values):
    for k, v in values.items():
        template = template.replace('@%s@' % k, str(v))
    return template


class Stack:
    """One running stack. Use as a context manager or call start()/stop()."""

    def __init__(self, config=None, config_text=None, workers=4, port=None,
                 admin_key=None, realip=True, flood_rate=1000,
                 flood_burst=2000, host='127.0.0.1', cert_dir=None,
                 run_parent='/run', conn_limit=1000, nofile=None):
        self.overrides = dict(config or {})
        self.config_text = config_text
        self.workers = workers
        self.port = port or free_port()
        self.admin_key = admin_key
        self.compat_token = 'ct-' + os.urandom(16).hex()
        self.realip = realip
        self.flood_rate = flood_rate
        self.flood_burst = flood_burst
        self.conn_limit = conn_limit
        self.host = host
        self.cert_dir = cert_dir
        self.run_parent = run_parent
        self.procs = []
        self.uidmap_proc = None
        self.base = None
        # The pool's RLIMIT_NOFILE (soft, hard). By default what systemd
        # gives a unit without LimitNOFILE=: soft 1024, the hard limit kept.
        self.nofile = nofile
        # Handed to the workers' environment: a run must never see it.
        self.env_canary = 'pyexec-env-canary-' + secrets.token_hex(12)

    # -- lifecycle ---------------------------------------------------------
    def start(self, ready_timeout=300, serve_early=False):
        """Starts nginx and the pool and waits until the stack answers.
        Each worker runs its sandbox self-test before serving, and on a
        slow, loaded machine that takes seconds per worker, so the wait is
        generous. With serve_early, returns as soon as one worker serves
        (the rest keep starting; see ready_workers())."""
        ensure_user()
        ensure_subids()
        pw = pwd.getpwnam(SERVICE_USER)
        www = pwd.getpwnam(NGINX_USER)
        self.base = tempfile.mkdtemp(prefix='pyexec-stack-', dir=self.run_parent)
        os.chmod(self.base, 0o755)
        b = self.base
        for d, owner, mode in (('jails', pw, 0o700), ('state', pw, 0o700),
                               ('bin', None, 0o755), ('nginx-tmp', www, 0o700)):
            p = os.path.join(b, d)
            os.mkdir(p)
            os.chmod(p, mode)
            if owner:
                os.chown(p, owner.pw_uid, owner.pw_gid)
        self.binary = os.path.join(b, 'bin', 'pyexec-fcgi')
        shutil.copy2(BINARY, self.binary)
        os.chmod(self.binary, 0o755)
        zygote = os.path.join(b, 'bin', 'pyexec-zygote')
        shutil.copy2(ZYGOTE, zygote)
        os.chmod(zygote, 0o755)

        text = self.config_text if self.config_text is not None else ''
        given = parse_conf(text)
        extra = {}
        if 'runtime_dir' not in given:
            extra['runtime_dir'] = os.path.join(b, 'jails')
        else:
            self._own_dir(given['runtime_dir'], pw)
        if 'zygote_path' not in given:
            extra['zygote_path'] = zygote
        if 'uidmap_socket' not in given:
            extra['uidmap_socket'] = os.path.join(b, 'uidmap.sock')
        if 'state_dir' not in given:
            extra['state_dir'] = os.path.join(b, 'state')
        else:
            self._own_dir(given['state_dir'], pw)
        if self.admin_key is not None and 'admin_api_key_file' not in given:
            kf = os.path.join(b, 'admin.key')
            with open(kf, 'w') as f:
                f.write(self.admin_key + '\n')
            os.chown(kf, pw.pw_uid, pw.pw_gid)
            os.chmod(kf, 0o400)
            extra['admin_api_key_file'] = kf
        # /compat/code-interpreter's X-Auth-Token (self.compat_token).
        if 'compat_token_file' not in given:
            tf = os.path.join(b, 'compat.token')
            with open(tf, 'w') as f:
                f.write(self.compat_token + '\n')
            os.chown(tf, pw.pw_uid, pw.pw_gid)
            os.chmod(tf, 0o400)
            extra['compat_token_file'] = tf
        extra.update(self.overrides)
        for k in extra:
            if k in given:
                raise ValueError('config key %s given twice' % k)
        self.config = dict(given, **extra)
        self.conf_path = os.path.join(b, 'pyexec.conf')
        with open(self.conf_path, 'w') as f:
            f.write(text.rstrip('\n') + '\n' if text else '')
            for k, v in extra.items():
                f.write('%s = %s\n' % (k, v))
        os.chmod(self.conf_path, 0o644)

        # The playground and openapi.json, readable by nginx's user.
        self.www = os.path.join(b, 'www')
        shutil.copytree(os.path.join(REPO, 'www'), self.www)
        for root, dirs, files in os.walk(self.www):
            os.chmod(root, 0o755)
            for f in files:
                os.chmod(os.path.join(root, f), 0o644)

        body_max = subprocess.run([self.binary, '-B', '-c', self.conf_path],
                                  check=True, capture_output=True,
                                  text=True).stdout.strip()
        tl = int(self.config.get('time_limit_seconds', 10))
        self.sock = os.path.join(b, 'pyexec.sock')
        self.cert, self.key = ensure_cert(self.cert_dir or os.path.join(b, 'tls'))
        values = {
            'RUN': b, 'HOST': self.host,
            'FASTCGI_PARAMS': '/etc/nginx/fastcgi_params', 'PORT': self.port,
            'CERT': self.cert, 'KEY': self.key, 'SOCKET': self.sock,
            # A session's creation may also wait 60 s for a start slot.
            'BODY_MAX': body_max, 'READ_TIMEOUT': tl + 30 + 60 +
            -(-int(self.config.get('max_queue_wait_ms', 0)) // 1000), 'WWW': self.www,
            'FLOOD_RATE': self.flood_rate, 'FLOOD_BURST': self.flood_burst,
            'CONN_LIMIT': self.conn_limit,
            'REALIP': ('    set_real_ip_from 127.0.0.1;\n'
                       '    real_ip_header X-Forwarded-For;\n'
                       '    real_ip_recursive on;') if self.realip else '',
        }
        for name in ('pyexec-http.conf', 'pyexec-locations.conf'):
            with open(os.path.join(REPO, 'nginx', name)) as f:
                out = render(f.read(), values)
            with open(os.path.join(b, name), 'w') as f:
                f.write(out)
        with open(os.path.join(REPO, 'nginx', 'dev-nginx.conf.in')) as f:
            nginx_conf = render(f.read(), values)
        self.nginx_conf = os.path.join(b, 'nginx.conf')
        with open(self.nginx_conf, 'w') as f:
            f.write(nginx_conf)

        # Delegate a cgroup v1 memory and pids subtree to the pool, as an
        # operator's launcher would: the workers put each run in their own
        # child of it (per-run memory cap and OOM detection).
        self.cgroups = []
        for ctl, d in cgroup_v1_dirs(os.path.basename(b)).items():
            try:
                os.mkdir(d)
                os.chown(d, pw.pw_uid, pw.pw_gid)
                self.cgroups.append(d)
            except OSError:
                pass
        cgroups = list(self.cgroups)

        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        nofile = self.nofile or (min(1024, hard), hard)

        def enter_cgroups():
            for d in cgroups:
                with open(os.path.join(d, 'cgroup.procs'), 'w') as f:
                    f.write(str(os.getpid()))
            resource.setrlimit(resource.RLIMIT_NOFILE, nofile)
            os.umask(0o077)     # as pyexec.service's UMask=0077

        # pyexec-uidmap, root, on a socket only the service's group can
        # use (as pyexec-uidmap.socket does when packaged): it maps each
        # run slot's own host uid. Started first, stopped last (not in
        # self.procs, whose first entry is multiwatch's for the tests).
        self.uidmap_log = os.path.join(b, 'uidmap.log')
        if self.config.get('run_uids', 'per-slot') == 'per-slot':
            usock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            usock.bind(self.config['uidmap_socket'])
            os.chown(self.config['uidmap_socket'], 0, pw.pw_gid)
            os.chmod(self.config['uidmap_socket'], 0o660)
            usock.listen(64)
            ulog = open(self.uidmap_log, 'ab')
            self.uidmap_proc = (subprocess.Popen(
                [UIDMAP, '-u', SERVICE_USER, '-r', self.config['runtime_dir']],
                stdin=usock.fileno(), stdout=ulog, stderr=ulog,
                start_new_session=True, env={'PATH': '/usr/sbin:/usr/bin'}))
            usock.close()
            ulog.close()

        self.worker_log = os.path.join(b, 'workers.log')
        self._enter_cgroups = enter_cgroups
        self.procs.append(self._spawn_pool())
        subprocess.run(['nginx', '-t', '-q', '-c', self.nginx_conf], check=True)
        nlog = open(os.path.join(b, 'nginx-stderr.log'), 'ab')
        self.procs.append(subprocess.Popen(
            ['nginx', '-c', self.nginx_conf, '-g', 'daemon off;'],
            stdin=subprocess.DEVNULL, stdout=nlog, stderr=nlog,
            start_new_session=True))
        nlog.close()
        self._wait_ready(ready_timeout, serve_early)
        return self

    def _spawn_pool(self):
        # spawn-fcgi binds the socket (owner www-data, mode 0660), drops to
        # pyexec and execs multiwatch, which keeps N workers alive on fd 0.
        with open(self.worker_log, 'ab') as wlog:
            return subprocess.Popen(
                ['spawn-fcgi', '-n', '-s', self.sock, '-M', '0660',
                 '-U', NGINX_USER, '-G', NGINX_USER, '-u', SERVICE_USER,
                 '-g', SERVICE_USER, '--', '/usr/bin/multiwatch', '-f',
                 str(self.workers), '--', self.binary, '-c', self.conf_path],
                stdin=subprocess.DEVNULL, stdout=wlog, stderr=wlog,
                start_new_session=True, preexec_fn=self._enter_cgroups,
                env={'PATH': '/usr/sbin:/usr/bin:/sbin:/bin',
                     'PYEXEC_TEST_ENV_CANARY': self.env_canary})

    def restart_pool_if_gone(self):
        """What pyexec.service's Restart=always does: a new pool once
        multiwatch has exited (it gives up a worker that keeps dying
        within 10 s of its start, and exits when it has given up all).
        True if it had to."""
        if not self.procs or self.procs[0].poll() is None:
            return False
        self.procs[0] = self._spawn_pool()
        return True

    def _own_dir(self, path, pw):
        os.makedirs(path, mode=0o700, exist_ok=True)
        os.chown(path, pw.pw_uid, pw.pw_gid)
        os.chmod(path, 0o700)

    def _wait_ready(self, timeout, serve_early):
        t0 = time.time()
        serving = False
        told = t0
        while time.time() < t0 + timeout:
            if serve_early and time.time() - told > 15:
                told = time.time()
                print('still starting: %d of %d workers ready after %ds '
                      '(each runs a sandbox self-test first)'
                      % (self.ready_workers(), self.workers, told - t0),
                      file=sys.stderr, flush=True)
            for p in self.procs:
                if p.poll() is not None:
                    raise RuntimeError('stack process exited early (%s); '
                                       'see %s' % (p.args[0], self.base))
            ready = self.ready_workers()
            if ready and not serving:
                try:
                    serving = self.request('GET', '/healthz',
                                           timeout=10)[0] == 200
                except OSError:
                    pass
            if serving and (serve_early or ready >= self.workers):
                return
            time.sleep(0.1)
        if serving:
            # Never tear down a stack that answers: a slow worker is not a
            # broken one. Say so; a test that needs every worker will tell.
            print('stack: serving with %d of %d workers ready after %ds'
                  % (self.ready_workers(), self.workers, timeout),
                  file=sys.stderr, flush=True)
            return
        raise RuntimeError('stack not ready after %ds (%d of %d workers '
                           'ready); worker log:\n%s'
                           % (timeout, self.ready_workers(), self.workers,
                              self.worker_log_text()[-3000:]))

    def ready_workers(self):
        """Workers that passed their self-test and are still alive."""
        pids = set(re.findall(r'\[(\d+)\]: worker ready',
                              self.worker_log_text()))
        return sum(1 for p in pids if os.path.exists('/proc/' + p))

    def self_test_failures(self):
        return [l for l in self.worker_log_text().splitlines()
                if 'self-test' in l and 'passed' not in l]

    def worker_log_text(self):
        try:
            with open(self.worker_log, errors='replace') as f:
                return f.read()
        except OSError:
            return ''

    def stop(self):
        # SIGTERM to the leaders only: nginx's master and multiwatch each
        # stop their own children. Signalling the whole group raced
        # multiwatch: workers that died of their own SIGTERM first looked
        # like crashes, multiwatch tried to respawn them and then hung until
        # the SIGKILL below, 15 s later (about one stop in three).
        for p in reversed(self.procs):
            if p.poll() is None:
                try:
                    os.kill(p.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for p in reversed(self.procs):
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        self.procs = []
        self._stop_keepers()
        u, self.uidmap_proc = self.uidmap_proc, None
        if u is not None and u.poll() is None:
            u.terminate()
            try:
                u.wait(timeout=15)
            except subprocess.TimeoutExpired:
                u.kill()
                u.wait()

    def _keepers(self):
        """Session keepers of this stack: setsid'd processes that hold a
        file of runtime_dir (their session slot's lock)."""
        rd = getattr(self, 'config', {}).get('runtime_dir')
        out = []
        if not rd:
            return out
        for p in os.listdir('/proc'):
            if not p.isdigit():
                continue
            try:
                for fd in os.listdir('/proc/%s/fd' % p):
                    if os.readlink('/proc/%s/fd/%s' % (p, fd)).startswith(rd + '/'):
                        out.append(int(p))
                        break
            except OSError:
                continue
        return out

    def _stop_keepers(self):
        """What systemd does to the unit's cgroup on stop: SIGTERM (a
        keeper then frees its session), SIGKILL after a grace."""
        for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 10)):
            pids = self._keepers()
            for pid in pids:
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
            deadline = time.monotonic() + wait
            while pids and time.monotonic() < deadline:
                pids = [p for p in pids if _alive(p)]
                time.sleep(0.1)
            if not pids:
                return

    def cleanup(self):
        for d in getattr(self, 'cgroups', []):
            for attempt in range(50):
                try:
                    for sub in os.listdir(d):
                        if os.path.isdir(os.path.join(d, sub)):
                            os.rmdir(os.path.join(d, sub))
                    os.rmdir(d)
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.1)
        self.cgroups = []
        if self.base and os.path.isdir(self.base):
            shutil.rmtree(self.base)
        self.base = None

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.stop()
            self.cleanup()
            raise

    def __exit__(self, *exc):
        self.stop()
        self.cleanup()

    # -- client ------------------------------------------------------------
    def connection(self, timeout=60):
        ctx = ssl.create_default_context(cafile=self.cert)
        return http.client.HTTPSConnection(self.host, self.port,
                                           context=ctx, timeout=timeout)

    def request(self, method, path, body=None, headers=None, conn=None,
                timeout=60):
        """Returns (status, headers dict, raw body bytes)."""
        own = conn is None
        c = conn or self.connection(timeout)
        try:
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            data = r.read()
            hdrs = {k.lower(): v for k, v in r.getheaders()}
            if RESPONSE_HOOK is not None:
                RESPONSE_HOOK(method, path, r.status, hdrs, data)
            return r.status, hdrs, data
        finally:
            if own:
                c.close()

    # -- time margins --------------------------------------------------------
    def run_cost(self):
        """Median wall time of a trivial run through the whole stack (TLS,
        nginx, a worker, a jail), measured once per stack, as a public
        caller from an address no test uses (never with the admin key: in
        exec mode a worker's heap keeps stale copies of a request, which
        the tests of secrets look for). Machines of our kind differ by 10x and
        more in process start-up and page faults: a time bound in a test
        is this cost times a factor, not a constant."""
        if getattr(self, '_run_cost', None) is None:
            times = []
            for _ in range(5):
                t0 = time.monotonic()
                st, doc, _ = self.execute({'code': 'print(1)'},
                                          ip=CALIBRATION_IP)
                times.append(time.monotonic() - t0)
                if st != 200:
                    raise RuntimeError('calibration run failed: %s %s'
                                       % (st, doc))
            self._run_cost = sorted(times)[len(times) // 2]
        return self._run_cost

    def slack(self, runs=40, floor=3.0):
        """How long to allow for work worth about `runs` trivial runs
        (killing and reaping a jail, a worker noticing), never under
        `floor` seconds: about 3 s here, 10-20 s on a machine ten times
        slower at process start-up."""
        return max(floor, runs * self.run_cost())

    def execute(self, payload, ip=None, headers=None, raw=None, conn=None,
                timeout=60):
        """POST /execute; returns (status, parsed JSON or None, headers)."""
        h = {'Content-Type': 'application/json'}
        if ip:
            h['X-Forwarded-For'] = ip
        h.update(headers or {})
        body = raw if raw is not None else json.dumps(payload).encode()
        status, hdrs, data = self.request('POST', '/execute', body, h,
                                          conn=conn, timeout=timeout)
        try:
            doc = json.loads(data)
        except ValueError:
            doc = None
        return status, doc, hdrs


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest='cmd', required=True)
    r = sub.add_parser('run', help='serve in the foreground until SIGINT/SIGTERM')
    r.add_argument('--port', type=int, default=8443)
    r.add_argument('--host', default='127.0.0.1')
    r.add_argument('--config', help='pyexec.conf to use (default: built-in defaults)')
    r.add_argument('--workers', type=int, default=0,
                   help='worker processes (default: max_concurrent + 3)')
    r.add_argument('--state', default=os.path.join(REPO, '.dev'),
                   help='where the dev certificate and admin key live')
    args = ap.parse_args()

    text = ''
    if args.config:
        with open(args.config) as f:
            text = f.read()
    given = parse_conf(text)
    workers = args.workers or int(given.get('max_concurrent', 5)) + 3
    os.makedirs(args.state, mode=0o700, exist_ok=True)
    admin_key = None
    if 'admin_api_key_file' not in given:
        kf = os.path.join(args.state, 'admin.key')
        if not os.path.exists(kf):
            with open(kf, 'w') as f:
                f.write(os.urandom(24).hex() + '\n')
            os.chmod(kf, 0o600)
        with open(kf) as f:
            admin_key = f.read().strip()
    stack = Stack(config_text=text, workers=workers, port=args.port,
                  host=args.host, admin_key=admin_key,
                  cert_dir=os.path.join(args.state, 'tls'))
    stop = []
    signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
    signal.signal(signal.SIGINT, lambda *a: stop.append(1))
    try:
        stack.start(serve_early=True)
        print('pyexec is serving on https://%s:%d (self-signed certificate: %s)'
              % (args.host, args.port, stack.cert), flush=True)
        ready = stack.ready_workers()
        print('workers ready: %d of %d' % (ready, workers), flush=True)
        failures = len(stack.self_test_failures())
        if admin_key:
            print('admin API key: in %s' % os.path.join(args.state, 'admin.key'), flush=True)
        print('logs: %s/workers.log, %s/nginx-error.log; Ctrl-C stops.'
              % (stack.base, stack.base), flush=True)
        while not stop:
            for p in stack.procs:
                if p.poll() is not None:
                    print('a stack process exited (%s); stopping' % p.args[0],
                          file=sys.stderr)
                    stop.append(1)
            now = stack.ready_workers()
            if now != ready:
                ready = now
                print('workers ready: %d of %d' % (ready, workers), flush=True)
            lines = stack.self_test_failures()
            for l in lines[failures:]:
                print('worker: ' + l, file=sys.stderr, flush=True)
            failures = len(lines)
            time.sleep(0.5)
    finally:
        stack.stop()
        stack.cleanup()
        print('stopped', flush=True)


if __name__ == '__main__':
    main()
