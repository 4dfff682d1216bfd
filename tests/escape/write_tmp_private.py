"""Leave files in /tmp and /work for the next run or for the host."""
import os
import secrets
import time

from escape_util import config, report, run_ok
from escape_util import prebuilt_jail_dirs, work_files

CONFIG = config()

ATTACK = ('one run writes a file in /tmp and in /work (plus a hidden dir and '
          'a FIFO in /tmp); the following runs, on every worker, look for '
          'them; the host looks for them in its /tmp, /var/tmp and in the '
          'stack\'s run directory (where the jail mount points live)')
EXPECTED = ('the file is visible in the writing run only; later runs see an '
            'empty /tmp and a /work holding just script.py; the host has no '
            'such file and the jails directory is empty after the run')

WRITE = r'''
import os
TAG = %r
for d in ('/tmp', '/work'):
    with open(os.path.join(d, TAG), 'w') as f:
        f.write('left behind')
os.mkdir('/tmp/.' + TAG)
os.mkfifo('/tmp/' + TAG + '.fifo')
print(sorted(os.listdir('/tmp')), sorted(os.listdir('/work')))
'''

LOOK = r'''
TAG = %r
R['tmp'] = sorted(os.listdir('/tmp'))
R['work'] = sorted(os.listdir('/work'))
R['read tmp'] = attempt(open, '/tmp/' + TAG)
R['read work'] = attempt(open, '/work/' + TAG)
done()
'''


def test(stack):
    tag = 'pyexec-escape-tmp-' + secrets.token_hex(6)
    d = run_ok(stack, WRITE % tag)
    assert tag in d['stdout'], d
    for _ in range(stack.workers + 1):
        r = report(stack, LOOK % tag)
        # exec mode: /tmp/.matplotlib is the run's own read-only font list
        tmp = [n for n in r['tmp'] if n != '.matplotlib']
        assert tmp == [], 'a later run sees in /tmp: %r' % r['tmp']
        assert r['work'] == work_files(), \
            'a later run sees in /work: %r' % r['work']
        assert r['read tmp'] == 'errno:ENOENT', r
        assert r['read work'] == 'errno:ENOENT', r
    for d in ('/tmp', '/var/tmp', '/run', '/'):
        assert not os.path.lexists(os.path.join(d, tag)), \
            'the host has %s/%s' % (d, tag)
    found = []
    for root, dirs, files in os.walk(stack.base):
        found += [os.path.join(root, n) for n in dirs + files if tag in n]
    assert not found, 'found on the host: %s' % found
    # runtime_dir also holds the concurrency slots' lock files (slot.N)
    # and their map (slots.map), the waiting room's (queue.N), the pool's metrics counters
    # (metrics.v2) and the workers' self-test stamp (selftest.ok*).
    # Sessions on the same stack add their key (session.key), the mark
    # of a running sweep (sweep.lock), the start slots' lock files
    # (start.N) and their sockets' directory, which must hold no socket
    # after the run.
    # An idle worker's pre-built jail (zygote mode) has one too, in which
    # no run has been (prebuilt_jail_dirs); one being built is not idle
    # yet: look again until the slack runs out.
    rd = os.path.join(stack.base, 'jails')
    deadline = time.monotonic() + stack.slack()
    while True:
        spares = prebuilt_jail_dirs(stack)
        jails = [n for n in os.listdir(rd)
                 if not n.startswith(('slot.', 'queue.', 'start.',
                                      'metrics.v', 'selftest.ok'))
                 and n not in ('session.key', 'sweep.lock', 'slots.map')
                 and n not in spares
                 and not (n == 'sessions' and not [
                     x for x in os.listdir(os.path.join(rd, n))
                     if x.endswith('.sock')])]
        if not jails or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert jails == [], 'jail mount points left behind: %s' % jails
