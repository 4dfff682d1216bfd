"""Whole-machine administration: reboot, swap, clock, hostname, I/O ports."""
from escape_util import assert_denied, config, report

CONFIG = config()

ATTACK = ('reboot(LINUX_REBOOT_CMD_CAD_OFF) (harmless even if it worked), '
          'swapon/swapoff of a workspace file, acct, syslog(READ_ALL), '
          'settimeofday, clock_settime, adjtimex, sethostname, setdomainname, '
          'iopl(3), ioperm, quotactl, vhangup, sync, syncfs')
EXPECTED = 'every call fails with EPERM'

CODE = r'''
c = lambda s: ctypes.c_char_p(s.encode())
with open('/work/swap', 'wb') as f:
    f.write(b'\0' * 65536)
R['reboot CAD_OFF'] = sc(169, 0xfee1dead, 672274793, 0, None)
R['swapon'] = sc(167, c('/work/swap'), 0)
R['swapoff'] = sc(168, c('/work/swap'))
R['acct'] = sc(163, c('/work/acct'))
buf = ctypes.create_string_buffer(4096)
R['syslog READ_ALL'] = sc(103, 3, buf, 4096)
tv = (ctypes.c_long * 2)(0, 0)
R['settimeofday'] = sc(164, ctypes.byref(tv), None)
R['clock_settime'] = sc(227, 0, ctypes.byref(tv))
timex = (ctypes.c_uint8 * 256)()
R['adjtimex'] = sc(159, ctypes.byref(timex))
R['sethostname'] = sc(170, c('pwned'), 5)
R['setdomainname'] = sc(171, c('pwned'), 5)
R['iopl'] = sc(172, 3)
R['ioperm'] = sc(173, 0x80, 1, 1)
R['quotactl'] = sc(179, 0x800002, c('/work'), 0, None)
R['vhangup'] = sc(153)
R['sync'] = sc(162)
R['syncfs'] = sc(306, 0)
done()
'''


def test(stack):
    assert_denied(report(stack, CODE), allowed=('errno:EPERM',))
