"""io_uring: setup, enter, register."""
from escape_util import assert_denied, config, report

CONFIG = config()

ATTACK = ('io_uring_setup with 8 entries, then io_uring_enter and '
          'io_uring_register on fd 0 and on whatever setup returned')
EXPECTED = 'all three fail with EPERM'

CODE = r'''
params = (ctypes.c_uint8 * 120)()
R['io_uring_setup'] = sc(425, 8, ctypes.byref(params))
s = R['io_uring_setup']
fd = int(s[4:]) if s.startswith('ret:') else 0
R['io_uring_enter'] = sc(426, fd, 1, 0, 0, None, 0)
R['io_uring_register'] = sc(427, fd, 0, None, 0)
done()
'''


def test(stack):
    assert_denied(report(stack, CODE), allowed=('errno:EPERM',))
