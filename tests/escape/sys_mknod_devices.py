"""mknod: device nodes in the workspace."""
from escape_util import config, report

CONFIG = config()

ATTACK = ('mknod and mknodat of /dev/mem (c 1,1), /dev/kmsg, a block device '
          'for the host disk (b 254,0) and a socket node in /work; the '
          'S_IFIFO bit pattern with a character-device type in the mode\'s '
          'upper bits; then os.mkfifo, which must keep working')
EXPECTED = ('every device node fails (ENOSYS from the filter, or EPERM); no '
            'device node exists in /work afterwards; the FIFO is created')

CODE = r'''
import stat
def node(name, mode, dev):
    return sc(133, ctypes.c_char_p(('/work/' + name).encode()), mode, dev)
R['mknod mem'] = node('mem', stat.S_IFCHR | 0o666, os.makedev(1, 1))
R['mknod kmsg'] = node('kmsg', stat.S_IFCHR | 0o666, os.makedev(1, 11))
R['mknod disk'] = node('disk', stat.S_IFBLK | 0o666, os.makedev(254, 0))
R['mknod socket'] = node('sock', stat.S_IFSOCK | 0o666, 0)
R['mknod chr in high bits'] = node('mem2', (stat.S_IFCHR << 32) | stat.S_IFCHR
                                   | 0o666, os.makedev(1, 1))
R['mknodat mem'] = sc(259, -100, ctypes.c_char_p(b'/work/mem3'),
                      stat.S_IFCHR | 0o666, os.makedev(1, 1))
R['_fifo'] = attempt(os.mkfifo, '/work/fifo')
R['_devices'] = [n for n in os.listdir('/work')
                 if stat.S_ISCHR(os.lstat('/work/' + n).st_mode) or
                 stat.S_ISBLK(os.lstat('/work/' + n).st_mode)]
done()
'''


def test(stack):
    r = report(stack, CODE)
    assert r.pop('_fifo') == 'ok:None', 'mkfifo broke'
    assert r.pop('_devices') == [], r
    bad = {k: v for k, v in r.items()
           if v not in ('errno:ENOSYS', 'errno:EPERM')}
    assert not bad, bad
