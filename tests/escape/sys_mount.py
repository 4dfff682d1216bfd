"""The mount family: mount, umount2, pivot_root, chroot, new mount API."""
from escape_util import assert_denied, config, report

CONFIG = config()

ATTACK = ('remount / read-write, mount a tmpfs and a proc, bind /proc/1/root, '
          'umount /usr and /proc (to uncover what is below), pivot_root, '
          'chroot, and the new mount API (fsopen, fspick, open_tree, '
          'move_mount, mount_setattr) through raw syscalls')
EXPECTED = 'every call fails with EPERM (seccomp deny list)'

CODE = r'''
c = lambda s: ctypes.c_char_p(s.encode()) if s is not None else None
MS_REMOUNT, MS_BIND, MS_REC = 32, 4096, 16384
R['remount / rw'] = sc(165, c(None), c('/'), c(None), MS_REMOUNT | MS_BIND,
                      None)
R['mount tmpfs /tmp'] = sc(165, c('x'), c('/tmp'), c('tmpfs'), 0, None)
R['mount proc'] = sc(165, c('proc'), c('/work'), c('proc'), 0, None)
R['bind /proc/1/root'] = sc(165, c('/proc/1/root'), c('/work'), c(None),
                            MS_BIND | MS_REC, None)
R['umount2 /usr'] = sc(166, c('/usr'), 2)
R['umount2 /proc'] = sc(166, c('/proc'), 2)
R['umount2 /'] = sc(166, c('/'), 2)
R['pivot_root'] = sc(155, c('/work'), c('/work'))
R['chroot'] = sc(161, c('/work'))
R['fsopen tmpfs'] = sc(430, c('tmpfs'), 0)
R['fspick /'] = sc(433, -100, c('/'), 0)
R['open_tree /usr'] = sc(428, -100, c('/usr'), 1)   # OPEN_TREE_CLONE
R['move_mount'] = sc(429, -100, c('/usr'), -100, c('/work'), 0)
R['mount_setattr'] = sc(442, -100, c('/'), 0, None, 0)
done()
'''


def test(stack):
    assert_denied(report(stack, CODE), allowed=('errno:EPERM',))
