"""run.py: runs every test of pyexec and ends with "N passed, N failed".

Suites, in order:
  unit         C unit tests (`make check`, TAP), each TAP point counts
  sanitize     the unit tests again, built with clang, ASan and UBSan (the
               fuzzers' build directory, build-fuzz: one sanitizer build)
  valgrind     the unit tests again under valgrind
  fuzz         each libFuzzer harness for a short, bounded run
  integration  tests/integration/test_*.py against the real stack
  escape       tests/escape/*.py, one attack per file, real stack; on the
               zygote stack each attack runs again as a cell of a fresh
               session ("[session]"), unless its file sets SESSION to the
               reason it does not apply
  soak         bench/soak.py --short: about 2,000 checked requests under
               random faults (workers and zygotes killed, store locked,
               corrupted and its disk full, the pool killed); every answer
               checked, and 0 wrong, 0 lost, 0 left, counters exact
  leftovers    no process, mount or workspace of ours left behind
  package      tests/package (issue: Debian package), when present

Python test modules are plain: functions named test_* taking a running
Stack (tests/harness/stack.py). A module may set CONFIG (a dict of
pyexec.conf overrides) and WORKERS; modules with the same settings share
one stack. Escape files define ATTACK, EXPECTED and test(stack). Each
Python test gets TIMEOUT seconds (a module may set its own), then fails.

The C unit tests are the one list in tests/unit/Makefile.inc (UNIT_TESTS,
`make print-unit-tests`); --only selects among them, the fuzzers and the
Python tests alike.

    python3 tests/run.py [--only SUBSTRING[,SUBSTRING]] [--suite NAME[,NAME]]
"""
import argparse
import glob
import importlib.util
import json
import os
import pwd
import secrets
import signal
import subprocess
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(HERE, 'harness'))
sys.path.insert(0, os.path.join(HERE, 'integration'))
import stack as stackmod  # noqa: E402
import openapi_check  # noqa: E402
import escape_util  # noqa: E402

ADMIN_KEY = secrets.token_hex(24)
results = []  # (suite, name, ok, detail)


def record(suite, name, ok, detail=''):
    results.append((suite, name, ok, detail))
    line = '%s %s: %s' % ('PASS' if ok else 'FAIL', suite, name)
    if not ok and detail:
        line += '\n    ' + detail.strip().replace('\n', '\n    ')
    print(line, flush=True)


def selected(only, name):
    """--only: a comma-separated list of substrings; empty selects all."""
    return not only or any(o in name for o in only.split(','))


def unit_tests(build):
    """The one list of C unit tests, as the build knows it."""
    p = subprocess.run(['make', '-s', '-C', build, 'print-unit-tests'],
                       capture_output=True, text=True)
    return p.stdout.split() if p.returncode == 0 else None


FUZZ_BUILD = os.path.join(REPO, 'build-fuzz')


def configure_sanitized(build):
    """build-fuzz: clang, the fuzzers, ASan and UBSan for everything."""
    status = os.path.join(build, 'config.status')
    if os.path.exists(status):
        with open(status, errors='replace') as f:
            if '--enable-sanitizers' in f.read():
                return None
        subprocess.run(['make', '-s', '-C', build, 'distclean'],
                       capture_output=True)
    os.makedirs(build, exist_ok=True)
    p = subprocess.run([os.path.join(REPO, 'configure'), '-q', 'CC=clang',
                        '--enable-fuzzing', '--enable-sanitizers',
                        '--enable-werror'], cwd=build,
                       capture_output=True, text=True)
    return None if p.returncode == 0 else p.stdout + p.stderr


def run_unit(suite='unit', build=None, only='', env=None):
    build = build or os.path.join(REPO, 'build')
    tests = unit_tests(build)
    if tests is None:
        record(suite, 'unit test list', False,
               'make print-unit-tests failed in ' + build)
        return
    if only:
        tests = [t for t in tests if selected(only, os.path.basename(t))]
        if not tests:
            return
    for t in tests:     # stale results must not count
        for ext in ('.trs', '.log'):
            try:
                os.unlink(os.path.join(build, t + ext))
            except OSError:
                pass
    argv = ['make', '-C', build, '-s', '-j2', 'check']
    if only:
        argv.append('TESTS=' + ' '.join(tests))
    p = subprocess.run(argv, capture_output=True, text=True,
                       env=dict(os.environ, **(env or {})))
    trs = sorted(glob.glob(os.path.join(build, 'tests', '**', '*.trs'),
                           recursive=True))
    if only:
        trs = [t for t in trs if os.path.relpath(t, build)[:-4] in tests]
    if not trs:
        record(suite, 'make check', p.returncode == 0,
               p.stdout[-2000:] + p.stderr[-2000:])
        return
    for t in trs:
        name = os.path.basename(t)[:-4]
        with open(t) as f:
            points = [l.split(':', 3)[2].strip() for l in f
                      if l.startswith(':test-result:')]
        logf = t[:-4] + '.log'
        detail = ''
        if any(r not in ('PASS', 'SKIP', 'XFAIL') for r in points) or not points:
            try:
                with open(logf, errors='replace') as f:
                    detail = f.read()[-3000:]
            except OSError:
                pass
        for i, r in enumerate(points, 1):
            record(suite, '%s #%d' % (name, i), r in ('PASS', 'SKIP', 'XFAIL'),
                   detail if r not in ('PASS', 'SKIP', 'XFAIL') else '')
        if not points:
            record(suite, name, False, 'no TAP results\n' + detail)


def run_sanitized(only):
    tests = unit_tests(os.path.join(REPO, 'build')) or []
    if only and not any(selected(only, os.path.basename(t)) for t in tests):
        return
    err = configure_sanitized(FUZZ_BUILD)
    if err is not None:
        record('sanitize', 'configure build-fuzz', False, err[-3000:])
        return
    # Timing-bound test points skip themselves under ASan (test_store).
    run_unit('sanitize', FUZZ_BUILD, only, {'PYX_TEST_TOOL': 'asan'})


def run_script(suite, name, argv, timeout):
    if not os.path.exists(argv[0]):
        return
    try:
        p = subprocess.run(argv, capture_output=True, text=True,
                           timeout=timeout, cwd=REPO)
        record(suite, name, p.returncode == 0,
               (p.stdout[-2000:] + p.stderr[-2000:]) if p.returncode else '')
    except subprocess.TimeoutExpired:
        record(suite, name, False, 'timed out after %ds' % timeout)


def load_module(path):
    name = 'pyexec_test_' + os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


# Test stacks lift the per-IP limits unless a module sets them: only the
# abuse-control tests should meet the seed's 5-a-minute policy.
BASE_CONFIG = {'rate_limit_per_minute': 1000000, 'daily_quota': 100000000}

# Seconds one Python test may take before it fails (a module may set
# TIMEOUT): far above any test's need, so only a hang meets it.
TIMEOUT = 300


class TestTimeout(Exception):
    """Raised in a test that outlived its TIMEOUT (not an OSError, so
    that a test's own error handling does not swallow it)."""


def stack_key(mod, mode):
    cfg = dict(BASE_CONFIG, **getattr(mod, 'CONFIG', {}))
    cfg['mode'] = mode
    return (json.dumps(cfg, sort_keys=True),
            getattr(mod, 'WORKERS', 4), getattr(mod, 'FLOOD_RATE', 1000),
            getattr(mod, 'CONN_LIMIT', 1000),
            getattr(mod, 'NOFILE', None))


def in_session(fn):
    def run_in_session(st):
        escape_util.SESSION = True
        try:
            fn(st)
        finally:
            escape_util.SESSION = False
    return run_in_session


def run_python_suites(suites, only, modes):
    groups = {}
    files = []
    if 'integration' in suites:
        files += [('integration', f) for f in
                  sorted(glob.glob(os.path.join(HERE, 'integration', 'test_*.py')))]
    if 'escape' in suites:
        files += [('escape', f) for f in
                  sorted(glob.glob(os.path.join(HERE, 'escape', '*.py')))]
    for suite, f in files:
        try:
            mod = load_module(f)
        except Exception:
            record(suite, os.path.basename(f), False, traceback.format_exc())
            continue
        for mode in modes:
            if mode in getattr(mod, 'MODES', ('exec', 'zygote')):
                groups.setdefault(stack_key(mod, mode), []).append(
                    (suite, f, mod))

    def on_alarm(signum, frame):
        raise TestTimeout('no result within the test\'s TIMEOUT')
    signal.signal(signal.SIGALRM, on_alarm)

    for key, mods in groups.items():
        config, workers, flood = json.loads(key[0]), key[1], key[2]
        conn_limit = key[3]
        nofile = key[4]
        tests = []
        for suite, f, mod in mods:
            base = '%s[%s]' % (os.path.splitext(os.path.basename(f))[0],
                               config['mode'])
            if suite == 'escape':
                if hasattr(mod, 'test'):
                    tests.append((suite, base, mod.test, mod))
                    # Where it applies, the same attack again inside a
                    # session (a cell of a live interpreter), on the zygote
                    # stack; a file that does not apply says why in
                    # SESSION (a string).
                    if config['mode'] == 'zygote' and \
                            not isinstance(getattr(mod, 'SESSION', True), str):
                        tests.append((suite, base.replace('[zygote]',
                                                          '[session]'),
                                      in_session(mod.test), mod))
                else:
                    record(suite, base, False, 'escape file defines no test()')
            else:
                for n in sorted(dir(mod)):
                    if n.startswith('test_') and callable(getattr(mod, n)):
                        tests.append((suite, '%s.%s' % (base, n),
                                      getattr(mod, n), mod))
        if only:
            tests = [t for t in tests
                     if any(o in t[1] for o in only.split(','))]
        if not tests:
            continue
        st = stackmod.Stack(config=config, workers=workers,
                            admin_key=ADMIN_KEY, flood_rate=flood,
                            flood_burst=flood * 2, conn_limit=conn_limit,
                            nofile=nofile)
        try:
            st.start()
        except Exception:
            record('harness', 'start stack %s' % key[0], False,
                   traceback.format_exc())
            st.stop()
            st.cleanup()
            continue
        st.admin_key = ADMIN_KEY
        try:
            for suite, name, fn, mod in tests:
                t0 = time.time()
                signal.alarm(int(getattr(mod, 'TIMEOUT', TIMEOUT)))
                try:
                    fn(st)
                    signal.alarm(0)
                    record(suite, name, True)
                except Exception:
                    signal.alarm(0)
                    detail = traceback.format_exc(limit=4)
                    if suite == 'escape':
                        detail = ('attack: %s\nexpected: %s\n'
                                  % (getattr(mod, 'ATTACK', '?'),
                                     getattr(mod, 'EXPECTED', '?')) + detail)
                    record(suite, name, False, detail)
                if time.time() - t0 > 30:
                    print('    (slow: %.1fs)' % (time.time() - t0), flush=True)
        finally:
            log_tail = st.worker_log_text()[-4000:]
            st.stop()
            # A worker that crashed shows up as a restart by multiwatch.
            crashed = [l for l in log_tail.splitlines()
                       if 'signal' in l.lower() and 'multiwatch' in l.lower()]
            record('harness', 'workers did not crash (%s)' % key[0],
                   not crashed, '\n'.join(crashed))
            st.cleanup()


def leftover_scan(uid):
    """What of ours exists now: processes of the service user, mounts,
    cgroups and stack directories, by kind (sets of lines); and which of
    the processes are zombies."""
    procs, zombies = set(), set()
    for pid in os.listdir('/proc'):
        if not pid.isdigit():
            continue
        try:
            if os.stat('/proc/' + pid).st_uid == uid:
                with open('/proc/%s/stat' % pid) as f:
                    state = f.read().rsplit(')', 1)[1].split()[0]
                with open('/proc/%s/cmdline' % pid, 'rb') as f:
                    cmd = f.read().replace(b'\0', b' ').decode(errors='replace')
                procs.add('%s %s' % (pid, cmd))
                if state == 'Z':
                    zombies.add('%s %s' % (pid, cmd))
        except (OSError, IndexError):
            pass
    # Stacks, benchmarks and the soak's state all live under /run/pyexec-*
    # and name their cgroups pyexec-*.
    with open('/proc/self/mountinfo') as f:
        mounts = {l for l in f if ' /run/pyexec-' in l or
                  'pyexec-ws' in l or ' pyexec' in l.split(' - ')[-1]}
    cgs = {d for ctl in stackmod.CGROUP_V1
           for d in glob.glob('/sys/fs/cgroup/%s/**/pyexec-*' % ctl,
                              recursive=True)}
    dirs = set(glob.glob('/run/pyexec-*'))
    return {'procs': procs, 'mounts': mounts, 'cgroups': cgs,
            'dirs': dirs}, zombies


def service_uid():
    try:
        return pwd.getpwnam(stackmod.SERVICE_USER).pw_uid
    except KeyError:
        return None


# What existed before this run began: the debris of another run on the
# same machine (one cut off while its stacks ran, say) is not this run's
# leftover. It is printed, never counted; all that this run leaves is.
BEFORE = {}


def note_before():
    uid = service_uid()
    if uid is None:
        return
    found, _ = leftover_scan(uid)
    for kind, items in found.items():
        BEFORE[kind] = items
        if items:
            print('note: before this run, %d %s of another run existed '
                  '(not counted as ours):\n    %s'
                  % (len(items), kind, '\n    '.join(sorted(items))),
                  flush=True)


def run_leftovers():
    uid = service_uid()
    if uid is None:
        return
    # A session keeper is a grandchild of a worker: its last exit leaves a
    # zombie for the host's pid 1 to reap, which some hosts' pid 1 does
    # only every few seconds. Zombies get that long; anything else none.
    end = time.monotonic() + 10
    while True:
        time.sleep(0.5)
        found, zombies = leftover_scan(uid)
        new = {k: sorted(v - BEFORE.get(k, set())) for k, v in found.items()}
        if (len(zombies - BEFORE.get('procs', set())) < len(new['procs'])
                or not new['procs']
                or time.monotonic() > end):
            break
    record('leftovers', 'no process of the pyexec user remains',
           not new['procs'], '\n'.join(new['procs']))
    record('leftovers', 'no pyexec mount remains on the host',
           not new['mounts'], ''.join(new['mounts']))
    record('leftovers', 'no cgroup of ours remains', not new['cgroups'],
           '\n'.join(new['cgroups']))
    record('leftovers', 'no stack or workspace directory remains',
           not new['dirs'], '\n'.join(new['dirs']))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--only', default='')
    ap.add_argument('--suite', default='unit,sanitize,valgrind,fuzz,integration,escape,soak,leftovers,package')
    ap.add_argument('--modes', default='exec,zygote',
                    help='run modes the stack suites run in')
    args = ap.parse_args()
    suites = args.suite.split(',')
    t0 = time.time()
    if 'leftovers' in suites:
        note_before()
    if 'unit' in suites:
        run_unit('unit', None, args.only)
    if 'sanitize' in suites:
        run_sanitized(args.only)
    if 'valgrind' in suites:
        argv = [os.path.join(HERE, 'unit', 'valgrind.sh'),
                os.path.join(REPO, 'build')]
        tests = unit_tests(os.path.join(REPO, 'build')) or []
        if args.only:
            argv += args.only.split(',')
        if any(selected(args.only, os.path.basename(t)) for t in tests):
            run_script('valgrind', 'unit tests under valgrind', argv, 900)
    if 'fuzz' in suites:
        names = [n for n in ('req', 'b64', 'cfg', 'pylit', 'compat', 'text')
                 if selected(args.only, n + '_fuzzer')]
        if names:
            run_script('fuzz', 'fuzzers (short run)',
                       [os.path.join(REPO, 'fuzz', 'run.sh'), '-t', '20',
                        FUZZ_BUILD] + (names if args.only else []), 900)
    checker = None
    if 'integration' in suites or 'escape' in suites:
        # Every response the stack suites receive is checked against
        # www/openapi.json ("checked against reality").
        checker = openapi_check.Checker()
        stackmod.RESPONSE_HOOK = checker.check
    run_python_suites(suites, args.only, args.modes.split(','))
    stackmod.RESPONSE_HOOK = None
    if checker is not None and checker.checked:
        record('openapi', 'every response of the stack suites matches '
               'openapi.json (%d checked, %d kinds)'
               % (checker.checked, len(checker.seen)),
               not checker.failures, '\n'.join(checker.failures[:20]))
    if 'soak' in suites and not args.only:
        run_script('soak', 'bench/soak.py --short (0 wrong, 0 lost, 0 left)',
                   [sys.executable, os.path.join(REPO, 'bench', 'soak.py'),
                    '--short'], 2400)
    if 'leftovers' in suites:
        run_leftovers()
    if 'package' in suites and not args.only:
        run_script('package', 'Debian package install test',
                   [os.path.join(HERE, 'package', 'test-package.sh')], 3000)
    passed = sum(1 for r in results if r[2])
    failed = len(results) - passed
    if failed:
        print('\nFailures:')
        for s, n, ok, d in results:
            if not ok:
                print('  %s: %s' % (s, n))
    print('(%.0f s)' % (time.time() - t0))
    print('%d passed, %d failed' % (passed, failed))
    sys.exit(1 if failed or passed == 0 else 0)


if __name__ == '__main__':
    main()
