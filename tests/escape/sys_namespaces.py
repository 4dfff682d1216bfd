"""New namespaces: unshare, setns, clone with CLONE_NEW*, clone3."""
from escape_util import assert_denied, config, report

CONFIG = config()

ATTACK = ('unshare() each namespace type (a new user namespace would hand '
          'back a full capability set), setns() into every /proc/self/ns '
          'link, raw clone() with each CLONE_NEW* flag (also with junk in '
          'the upper 32 bits), and clone3() with CLONE_NEWUSER')
EXPECTED = ('unshare, setns and clone fail with EPERM; clone3 with ENOSYS '
            '(its flags are in memory, so it is refused whole and glibc '
            'falls back to clone); no child is ever created')

CODE = r'''
FLAGS = {'user': 0x10000000, 'mnt': 0x20000, 'pid': 0x20000000,
         'net': 0x40000000, 'ipc': 0x08000000, 'uts': 0x04000000,
         'cgroup': 0x02000000, 'time': 0x80}
for n, f in FLAGS.items():
    R['unshare ' + n] = sc(272, f)
for n in sorted(os.listdir('/proc/self/ns')):
    try:
        fd = os.open('/proc/self/ns/' + n, os.O_RDONLY)
    except OSError as e:
        R['open ns ' + n] = 'errno:' + _ename(e.errno)
        continue
    R['setns ' + n] = sc(308, fd, 0)
    os.close(fd)
def raw_clone(flags):
    r = _libc.syscall(ctypes.c_long(56), ctypes.c_long(flags), None, None,
                      None, None)
    if r == 0:
        os._exit(42)          # a child exists: the attack worked
    if r > 0:
        os.waitpid(r, 0)
        return 'ok:created a child'
    return 'errno:' + _ename(ctypes.get_errno())
for n, f in FLAGS.items():
    if n == 'time':
        continue              # CLONE_NEWTIME needs clone3
    R['clone ' + n] = raw_clone(f | 17)
    R['clone ' + n + ' high bits'] = raw_clone(f | 17 | (1 << 40))
class CloneArgs(ctypes.Structure):
    _fields_ = [(n, ctypes.c_uint64) for n in (
        'flags', 'pidfd', 'child_tid', 'parent_tid', 'exit_signal', 'stack',
        'stack_size', 'tls', 'set_tid', 'set_tid_size', 'cgroup')]
for n, f in FLAGS.items():
    a = CloneArgs(flags=f, exit_signal=17)
    r = _libc.syscall(ctypes.c_long(435), ctypes.byref(a),
                      ctypes.c_long(ctypes.sizeof(a)))
    if r == 0:
        os._exit(42)
    R['clone3 ' + n] = ('ok:created a child' if r > 0 else
                        'errno:' + _ename(ctypes.get_errno()))
a = CloneArgs(flags=0, exit_signal=17)
r = _libc.syscall(ctypes.c_long(435), ctypes.byref(a),
                  ctypes.c_long(ctypes.sizeof(a)))
if r == 0:
    os._exit(42)
R['clone3 plain'] = 'ok' if r > 0 else 'errno:' + _ename(ctypes.get_errno())
done()
'''


def test(stack):
    r = report(stack, CODE)
    clone3 = {k: r.pop(k) for k in list(r) if k.startswith('clone3')}
    assert_denied(r, allowed=('errno:EPERM',))
    assert_denied(clone3, allowed=('errno:ENOSYS',))
