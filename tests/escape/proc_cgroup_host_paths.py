"""/proc/self/cgroup: the host's cgroup hierarchy and the worker's pid."""
from escape_util import config, report

CONFIG = config()

ATTACK = ('read /proc/self/cgroup and /proc/1/cgroup (host cgroup paths '
          'name the service, the stack and the worker pid holding the run)')
EXPECTED = 'every line ends in ":/": the run is the root of its own view'

CODE = r'''
for p in ('/proc/self/cgroup', '/proc/1/cgroup'):
    try:
        R[p] = open(p).read().splitlines()
    except OSError as e:
        R[p] = ['errno:' + _ename(e.errno)]
done()
'''


def test(stack):
    r = report(stack, CODE)
    for path, lines in r.items():
        assert lines, (path, lines)
        bad = [l for l in lines if l.startswith('errno:') or
               l.split(':', 2)[2] != '/']
        assert not bad, '%s shows host paths: %r' % (path, bad)
