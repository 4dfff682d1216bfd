"""The admin key is never in a jailed process's memory, fds or environment."""
import zlib

from helpers import ok, unb64

CONFIG = {'max_file_bytes': 64 * 1024 * 1024, 'workspace_limit_mb': 512,
          'max_return_bytes': 64 * 1024 * 1024,
          'memory_limit_mb': 2048, 'time_limit_seconds': 20}

# The script dumps every readable mapping of itself, compressed; the test,
# which knows the key, searches the dump. (A script that searched itself
# would have to hold the needle.)
SCAN = '''
import os, zlib
z = zlib.compressobj(1)
out = open("mem.z", "wb")
with open("/proc/self/maps") as maps, open("/proc/self/mem", "rb", 0) as mem:
    regions = [l.split() for l in maps]
for r in regions:
    start, end = (int(x, 16) for x in r[0].split("-"))
    if "r" not in r[1] or (len(r) > 5 and r[5] == "[vvar]"):
        continue
    try:
        with open("/proc/self/mem", "rb", 0) as mem:
            mem.seek(start)
            out.write(z.compress(mem.read(end - start)))
    except (OSError, ValueError, OverflowError):
        pass
out.write(z.flush())
out.close()
print(sorted(os.listdir("/proc/self/fd")))
print(sorted(os.environ))
'''


def test_admin_key_not_in_jail_memory(s):
    d = ok(s.execute({'code': SCAN, 'api_key': s.admin_key,
                      'return_files': ['mem.z']}, timeout=120))
    dump = zlib.decompress(unb64(d['output_files']['mem.z']['content_base64']))
    assert len(dump) > 1024 * 1024, len(dump)
    assert s.admin_key.encode() not in dump, 'admin key found in the jail'
    fds, env = d['stdout'].splitlines()
    # 0-2, plus the one the listing itself opened
    assert eval(fds) in (['0', '1', '2', '3'], ['0', '1', '2']), fds
    assert eval(env) == ['HOME', 'LANG', 'LC_ALL', 'LC_CTYPE', 'MPLBACKEND',
                         'MPLCONFIGDIR', 'OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS',
                         'PATH', 'TMPDIR'] or 'LC_CTYPE' not in eval(env), env
    assert not any('KEY' in k or 'CREDENTIAL' in k for k in eval(env)), env


def _jail_inits(s):
    """Pids (host view) of the jail inits of this stack: PID 1 of a PID
    namespace of their own, whose parent is one of the stack's workers,
    and which have started the script."""
    import os
    host_ns = os.readlink('/proc/self/ns/pid')
    out = []
    for p in os.listdir('/proc'):
        if not p.isdigit():
            continue
        try:
            with open('/proc/%s/status' % p) as f:
                st = dict(l.split(':', 1) for l in f.read().splitlines() if ':' in l)
            nspid = st.get('NSpid', '').split()
            if len(nspid) < 2 or nspid[-1] != '1' or \
                    os.readlink('/proc/%s/ns/pid' % p) == host_ns:
                continue
            ppid = st['PPid'].strip()
            with open('/proc/%s/cmdline' % ppid, 'rb') as f:
                parent = f.read()
            # Only once init has forked the script: it zeroes its copy of
            # the key before that, and no code of the run exists earlier
            # (on a loaded machine a scan can catch init before its first
            # steps).
            with open('/proc/%s/task/%s/children' % (p, p)) as f:
                started = f.read().strip() != ''
            # Jails are the workers' children in both modes (the zygote
            # clones them with CLONE_PARENT).
            if started and s.base.encode() in parent:
                out.append(int(p))
        except (OSError, KeyError):
            pass
    return out


def _release(init):
    """Lets the script below init go on (test-only: root writes into the
    jail's workspace through /proc)."""
    try:
        with open('/proc/%d/task/%d/children' % (init, init)) as f:
            kids = f.read().split()
    except OSError:
        return
    for k in kids:
        try:
            with open('/proc/%s/cwd/go' % k, 'w'):
                pass
        except OSError:
            pass


def test_admin_key_not_in_jail_init(s):
    # From the host (root may read a non-dumpable process): while a run
    # waits, read the whole memory of its jail's init. In zygote mode init
    # is a copy of the zygote, which never held the key: clean for admin
    # and public runs alike. In exec mode init is a copy of the worker; it
    # zeroes the worker's configured key first thing, so a public run's init
    # holds none (an admin run's request itself carried the key, and copies
    # of the request remain in the worker's memory: see README).
    import threading
    import time
    from test_zygote import scan_process
    kinds = [None, s.admin_key] if s.config.get('mode') == 'zygote' else [None]
    # The script waits for a file "go" that the test, as root on the host,
    # puts in its workspace once it has scanned init: no guess at how long
    # a scan takes here. (Public code may import neither os nor signal.)
    hold = s.config['time_limit_seconds'] - 2
    code = ('import time\n'
            'end = time.monotonic() + %d\n'
            'while time.monotonic() < end:\n'
            '    try:\n'
            '        open("go").close()\n'
            '        break\n'
            '    except OSError:\n'
            '        time.sleep(0.05)\n'
            'print("done")\n' % hold)
    for key in kinds:
        res = {}
        payload = {'code': code}
        if key:
            payload['api_key'] = key
        t = threading.Thread(target=lambda: res.update(r=s.execute(payload)))
        t.start()
        scanned = {}
        try:
            while not scanned and t.is_alive():
                time.sleep(0.1)
                for pid in _jail_inits(s):
                    try:
                        scanned[pid] = scan_process(pid, [s.admin_key.encode()])
                    except (ProcessLookupError, FileNotFoundError):
                        pass    # gone meanwhile: not the run that waits for us
        finally:
            for pid in scanned:
                _release(pid)
            t.join()
        assert scanned, 'found no jail init of this stack on the host'
        leaked = [pid for pid, hit in scanned.items() if hit]
        assert not leaked, 'admin key in the memory of jail init(s) %s (%s run)' % (
            leaked, 'admin' if key else 'public')
        assert res['r'][0] == 200, res['r']
        assert res['r'][1]['execution_details']['stdout'] == 'done\n'
