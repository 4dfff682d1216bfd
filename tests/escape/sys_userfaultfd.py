"""userfaultfd(): the race-widening primitive of many kernel exploits."""
from escape_util import assert_denied, config, report

CONFIG = config()

ATTACK = ('userfaultfd(0), userfaultfd(UFFD_USER_MODE_ONLY) and opening '
          '/dev/userfaultfd')
EXPECTED = ('the syscall fails with EPERM; /dev/userfaultfd does not exist '
            'in the jail')

CODE = r'''
R['userfaultfd'] = sc(323, os.O_CLOEXEC | os.O_NONBLOCK)
R['userfaultfd user-mode-only'] = sc(323, 1)
R['/dev/userfaultfd'] = attempt(os.open, '/dev/userfaultfd', os.O_RDWR)
done()
'''


def test(stack):
    assert_denied(report(stack, CODE), allowed=('errno:EPERM', 'errno:ENOENT'))
