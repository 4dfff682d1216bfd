"""x32 syscalls: the same entry point with nr | 0x40000000."""
import json

from escape_util import PRELUDE, config, describe, details, run

CONFIG = config()

ATTACK = ('call getpid, mount, unshare and socket(AF_INET) through the x32 '
          'table (nr | 0x40000000) in forked children, then getpid the same '
          'way in the script itself')
EXPECTED = ('each child is killed by SIGSYS (the filter kills any '
            'non-native ABI); then the script itself is killed: '
            'termination "signaled", signal 31 (SIGSYS)')

CODE = r'''
X32 = 0x40000000
R['x32 getpid'] = in_child(lambda: sc(X32 | 39))
R['x32 mount'] = in_child(lambda: sc(X32 | 165, None, None, None, 0, None))
R['x32 unshare user'] = in_child(lambda: sc(X32 | 272, 0x10000000))
R['x32 socket inet'] = in_child(lambda: sc(X32 | 41, 2, 1, 0))
R['x32 bogus 511'] = in_child(lambda: sc(X32 | 511))
done()
sys.stdout.flush()
sc(X32 | 39)
print('survived an x32 syscall')
'''


def test(stack):
    status, doc = run(stack, PRELUDE + CODE)
    d = details(doc)
    assert status == 200 and d.get('termination') == 'signaled' and \
        d.get('signal') == 31, describe(status, doc)

    r = json.loads(d['stdout'].splitlines()[0])
    bad = {k: v for k, v in r.items() if v != 'killed:SIGSYS'}
    assert not bad, bad
    assert 'survived' not in d['stdout']
