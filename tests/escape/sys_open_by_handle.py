"""open_by_handle_at: the "shocker" escape through file handles."""
from escape_util import assert_denied, config, report

CONFIG = config()

ATTACK = ('name_to_handle_at on /usr and /work, then open_by_handle_at '
          'with that handle and with a forged ext4 handle for inode 2 (the '
          'host root directory) against an fd of /usr (a bind of the host '
          'file system)')
EXPECTED = 'both syscalls fail with EPERM (seccomp deny list)'

CODE = r'''
NR_NAME_TO_HANDLE_AT, NR_OPEN_BY_HANDLE_AT = 303, 304
class FH(ctypes.Structure):
    _fields_ = [('handle_bytes', ctypes.c_uint), ('handle_type', ctypes.c_int),
                ('f_handle', ctypes.c_ubyte * 128)]
mount_id = ctypes.c_int(0)
for path in ('/usr', '/work', '/usr/bin/python3'):
    h = FH(128, 0)
    R['name_to_handle_at ' + path] = sc(NR_NAME_TO_HANDLE_AT, -100,
        ctypes.c_char_p(path.encode()), ctypes.byref(h),
        ctypes.byref(mount_id), 0)
usr = os.open('/usr', os.O_RDONLY | os.O_DIRECTORY)
# ext4 FILEID_INO32_GEN: {u32 ino, u32 gen}; inode 2 is the root directory.
forged = FH(8, 1)
forged.f_handle[0] = 2
for flags in (os.O_RDONLY, os.O_RDONLY | os.O_DIRECTORY, os.O_PATH):
    R['open_by_handle_at root flags=%o' % flags] = sc(NR_OPEN_BY_HANDLE_AT,
        usr, ctypes.byref(forged), flags)
done()
'''


def test(stack):
    r = report(stack, CODE)
    assert_denied(r, allowed=('errno:EPERM',))
