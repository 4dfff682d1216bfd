"""ptrace and friends, on init (PID 1) and on the script's own child."""
from escape_util import assert_denied, config, report

CONFIG = config()

ATTACK = ('PTRACE_ATTACH and PTRACE_SEIZE on PID 1 (the jail\'s init, a copy '
          'of the worker\'s memory) and on a child of the script; '
          'PTRACE_TRACEME in a child; process_vm_readv/writev, pidfd_getfd, '
          'kcmp and process_madvise on both')
EXPECTED = 'every call fails with EPERM (seccomp deny list)'

CODE = r'''
import time
child = os.fork()
if child == 0:
    time.sleep(10)
    os._exit(0)
buf = ctypes.create_string_buffer(64)
class IOV(ctypes.Structure):
    _fields_ = [('base', ctypes.c_void_p), ('len', ctypes.c_size_t)]
local = IOV(ctypes.cast(buf, ctypes.c_void_p), 64)
remote = IOV(0x400000, 64)
for who, pid in (('init', 1), ('child', child)):
    R['PTRACE_ATTACH ' + who] = sc(101, 16, pid, 0, 0)
    R['PTRACE_SEIZE ' + who] = sc(101, 0x4206, pid, 0, 0)
    R['process_vm_readv ' + who] = sc(310, pid, ctypes.byref(local), 1,
                                      ctypes.byref(remote), 1, 0)
    R['process_vm_writev ' + who] = sc(311, pid, ctypes.byref(local), 1,
                                       ctypes.byref(remote), 1, 0)
    R['kcmp ' + who] = sc(312, os.getpid(), pid, 0, 0, 0)
    pidfd = os.pidfd_open(pid)
    R['pidfd_getfd ' + who] = sc(438, pidfd, 0, 0)
    R['process_madvise ' + who] = sc(440, pidfd, ctypes.byref(local), 1, 8, 0)
    os.close(pidfd)
R['PTRACE_TRACEME'] = in_child(lambda: sc(101, 0, 0, 0, 0))
os.kill(child, signal.SIGKILL)
os.waitpid(child, 0)
done()
'''


def test(stack):
    assert_denied(report(stack, CODE), allowed=('errno:EPERM',))
