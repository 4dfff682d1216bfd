"""int 0x80: the i386 syscall table from a 64-bit process."""
import json
import subprocess

from escape_util import PRELUDE, config, describe, details, run

CONFIG = config()

ATTACK = ('map an executable page with "mov eax, NR; int 0x80; ret" and call '
          'it for i386 getpid (20), mount (21) and unshare (310) in forked '
          'children, then i386 getpid in the script itself')
EXPECTED = ('where the host kernel runs int 0x80 (probed outside any jail): '
            'each child is killed by SIGSYS, then the script itself '
            '(termination "signaled", signal 31); where the kernel cannot '
            'run it at all (ia32 emulation off, or a virtualization layer '
            'that does not deliver it: the host probe dies of SIGSEGV), the '
            'same with SIGSEGV. Never a return value.')

I386 = r'''
import ctypes, mmap, struct
def i386(nr, ebx=0):
    code = (b'\x53' +                                  # push rbx
            b'\xbb' + struct.pack('<I', ebx) +         # mov ebx, arg
            b'\xb8' + struct.pack('<I', nr) +          # mov eax, nr
            b'\xcd\x80' +                              # int 0x80
            b'\x5b' +                                  # pop rbx
            b'\xc3')                                   # ret
    m = mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE |
                  mmap.PROT_EXEC)
    m.write(code)
    addr = ctypes.addressof(ctypes.c_char.from_buffer(m))
    fn = ctypes.CFUNCTYPE(ctypes.c_int)(addr)
    return 'ret:%d' % fn()
'''

# The host side: i386 getpid, unconfined, in a child of its own.
HOST_PROBE = I386 + r'''
import os, signal
pid = os.fork()
if pid == 0:
    r = i386(20)
    os._exit(0 if r == 'ret:%d' % os.getpid() else 3)
st = os.waitpid(pid, 0)[1]
if os.WIFSIGNALED(st):
    print('killed:' + signal.Signals(os.WTERMSIG(st)).name)
else:
    print('exit:%d' % os.WEXITSTATUS(st))
'''

CODE = I386 + r'''
R['i386 getpid'] = in_child(lambda: i386(20))
R['i386 mount'] = in_child(lambda: i386(21))
R['i386 unshare user'] = in_child(lambda: i386(310, 0x10000000))
R['i386 bogus 1000'] = in_child(lambda: i386(1000))
done()
sys.stdout.flush()
i386(20)
print('survived int 0x80')
'''


def host_int80():
    """What int 0x80 does on this kernel outside any jail: "exit:0" where
    it works, "killed:SIGSEGV" where the kernel cannot deliver it."""
    p = subprocess.run(['/usr/bin/python3', '-I', '-S', '-c', HOST_PROBE],
                       capture_output=True, text=True, timeout=120)
    return p.stdout.strip()


def test(stack):
    host = host_int80()
    if host == 'exit:0':
        want_name, want_sig = 'SIGSYS', 31    # seccomp must be what stops it
    elif host == 'killed:SIGSEGV':
        want_name, want_sig = 'SIGSEGV', 11   # the kernel cannot run it
    else:
        raise AssertionError('host probe of int 0x80 gave %r' % host)
    status, doc = run(stack, PRELUDE + CODE)
    d = details(doc)
    assert 'survived' not in d.get('stdout', ''), describe(status, doc)
    assert status == 200 and d.get('termination') == 'signaled' and \
        d.get('signal') == want_sig, ('host int 0x80: %s; ' % host) + \
        describe(status, doc)
    r = json.loads(d['stdout'].splitlines()[0])
    bad = {k: v for k, v in r.items() if v != 'killed:' + want_name}
    assert not bad, ('host int 0x80: %s' % host, bad)
