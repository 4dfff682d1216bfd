"""Kernel code loading: init_module, finit_module, delete_module, kexec."""
from escape_util import assert_denied, config, report

CONFIG = config()

ATTACK = ('init_module with a junk image, finit_module on /usr/bin/python3, '
          'delete_module("ext4"), kexec_load and kexec_file_load')
EXPECTED = 'every call fails with EPERM'

CODE = r'''
c = lambda s: ctypes.c_char_p(s.encode())
img = ctypes.create_string_buffer(b'\x7fELF' + b'\0' * 60)
R['init_module'] = sc(175, img, 64, c(''))
fd = os.open('/usr/bin/python3', os.O_RDONLY)
R['finit_module'] = sc(313, fd, c(''), 0)
R['delete_module'] = sc(176, c('ext4'), os.O_NONBLOCK)
R['kexec_load'] = sc(246, 0, 0, None, 0)
R['kexec_file_load'] = sc(320, fd, fd, 0, c(''), 0)
done()
'''


def test(stack):
    assert_denied(report(stack, CODE), allowed=('errno:EPERM',))
