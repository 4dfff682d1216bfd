"""Environment secrets: the script's, init's, the worker's."""

from escape_util import config, report, worker_pids

CONFIG = config()

ATTACK = ('dump os.environ, /proc/self/environ, /proc/1/environ (init is a '
          'clone of the worker, whose environment holds a canary the test '
          'put in spawn-fcgi\'s environment), /proc/1/cmdline and the '
          'environ of a forked child')
EXPECTED = ('the script\'s environment is exactly the fixed jail set '
            '(PATH, HOME, TMPDIR, LANG, LC_ALL, MPLBACKEND, MPLCONFIGDIR, '
            'OPENBLAS_NUM_THREADS, OMP_NUM_THREADS); /proc/1/environ is '
            'unreadable; neither the canary nor the admin key appears '
            'anywhere')

JAIL_ENV = {'PATH', 'HOME', 'TMPDIR', 'LANG', 'LC_ALL', 'MPLBACKEND',
            'MPLCONFIGDIR', 'OPENBLAS_NUM_THREADS', 'OMP_NUM_THREADS'}

CODE = r'''
R['os.environ'] = dict(os.environ)
R['self environ'] = attempt(lambda: open('/proc/self/environ', 'rb').read())
R['init environ'] = attempt(lambda: open('/proc/1/environ', 'rb').read())
R['init cmdline'] = attempt(lambda: open('/proc/1/cmdline', 'rb').read())
R['child environ'] = in_child(
    lambda: open('/proc/self/environ', 'rb').read().decode())
done()
'''


def test(stack):
    # The canary really is in the workers' environment (else this proves
    # nothing): spawn-fcgi and multiwatch pass their environment through.
    w = sorted(worker_pids(stack))[0]
    with open('/proc/%d/environ' % w, 'rb') as f:
        assert stack.env_canary.encode() in f.read(), \
            'the canary did not reach the workers'
    r = report(stack, CODE)
    raw = repr(r)
    assert stack.env_canary not in raw, 'the worker environment leaked'
    assert 'PYEXEC_TEST_ENV_CANARY' not in raw, 'the worker environment leaked'
    assert stack.admin_key not in raw, 'the admin key leaked'
    assert set(r['os.environ']) == JAIL_ENV, sorted(r['os.environ'])
    assert r['init environ'] in ('errno:EACCES', 'errno:EPERM'), \
        r['init environ']
