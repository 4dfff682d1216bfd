"""/proc/sys, /sys, /proc/sysrq-trigger, /dev/mem and other host knobs."""
from escape_util import config, report

CONFIG = config()

ATTACK = ('look for and write to /sys, /proc/sys (core_pattern, hostname, '
          'modprobe), /proc/sysrq-trigger, /proc/kcore, /proc/kmsg, '
          '/proc/kallsyms, /proc/meminfo, /dev/mem, /dev/kmem, /dev/port, '
          '/dev/kmsg, /dev/vda, /dev/tty, /dev/ptmx, /dev/shm (a directory of the run\'s workspace now), also through '
          '/proc/1/root; lower oom_score_adj')
EXPECTED = ('none of them exists in the jail (/proc is mounted with '
            'subset=pid, there is no /sys): each write fails with ENOENT, or '
            'EROFS where it would create a file in the read-only root; '
            '/proc lists only pids, self and '
            'thread-self; /dev holds exactly null, zero, full, random, '
            'urandom, the fd/std* links and the run\'s own shm directory; '
            'oom_score_adj cannot be lowered')

CODE = r'''
def wr(p, data=b'x'):
    with open(p, 'wb') as f:
        f.write(data)
TARGETS = ['/sys', '/sys/kernel/uevent_helper', '/sys/fs/cgroup',
           '/proc/sys', '/proc/sys/kernel/core_pattern',
           '/proc/sys/kernel/hostname', '/proc/sys/kernel/modprobe',
           '/proc/sys/vm/drop_caches', '/proc/sysrq-trigger', '/proc/kcore',
           '/proc/kmsg', '/proc/kallsyms', '/proc/meminfo', '/proc/modules',
           '/proc/config.gz', '/proc/keys', '/proc/timer_list', '/proc/acpi',
           '/dev/mem', '/dev/kmem', '/dev/port', '/dev/kmsg', '/dev/vda',
           '/dev/sda', '/dev/tty', '/dev/console', '/dev/ptmx', '/dev/pts',
           '/dev/shm', '/dev/mqueue', '/dev/net/tun', '/dev/fuse',
           '/dev/userfaultfd', '/dev/kvm', '/dev/loop0', '/dev/loop-control']
for t in TARGETS:
    R['exists ' + t] = os.path.lexists(t)
    R['write ' + t] = attempt(wr, t, b'c')
    R['write /proc/1/root' + t] = attempt(wr, '/proc/1/root' + t, b'c')
R['_proc'] = sorted(n for n in os.listdir('/proc') if not n.isdigit())
R['_dev'] = sorted(os.listdir('/dev'))
R['_root'] = sorted(os.listdir('/'))
R['_lower oom_score_adj'] = attempt(wr, '/proc/self/oom_score_adj', b'-1000')
done()
'''


def test(stack):
    r = report(stack, CODE)
    assert r.pop('_proc') == ['self', 'thread-self'], r
    # shm: the run's own /dev/shm, a directory of its workspace (item 6)
    assert r.pop('_dev') == ['fd', 'full', 'null', 'random', 'shm', 'stderr',
                             'stdin', 'stdout', 'urandom', 'zero'], r
    assert r.pop('exists /dev/shm') is True
    assert r.pop('write /dev/shm') == 'errno:EISDIR', r
    root = r.pop('_root')
    assert 'sys' not in root, root
    assert r.pop('_lower oom_score_adj') in ('errno:EACCES', 'errno:EPERM'), r
    bad = {k: v for k, v in r.items()
           if v not in (False, 'errno:ENOENT', 'errno:EACCES', 'errno:EROFS')}
    assert not bad, bad
