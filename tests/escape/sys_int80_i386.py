"""int 0x80: the i386 syscall table from a 64-bit process."""
import json

from escape_util import PRELUDE, config, describe, details, run

CONFIG = config()

ATTACK = ('map an executable page with "mov eax, NR; int 0x80; ret" and call '
          'it for i386 getpid (20), mount (21) and unshare (310) in forked '
          'children, then i386 getpid in the script itself')
EXPECTED = ('each child is killed by SIGSYS; then the script itself: '
            'termination "signaled", signal 31')

CODE = r'''
import mmap, struct
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
R['i386 getpid'] = in_child(lambda: i386(20))
R['i386 mount'] = in_child(lambda: i386(21))
R['i386 unshare user'] = in_child(lambda: i386(310, 0x10000000))
R['i386 bogus 1000'] = in_child(lambda: i386(1000))
done()
sys.stdout.flush()
i386(20)
print('survived int 0x80')
'''


def test(stack):
    status, doc = run(stack, PRELUDE + CODE)
    d = details(doc)
    assert status == 200 and d.get('termination') == 'signaled' and \
        d.get('signal') == 31, describe(status, doc)
    r = json.loads(d['stdout'].splitlines()[0])
    bad = {k: v for k, v in r.items() if v != 'killed:SIGSYS'}
    assert not bad, bad
    assert 'survived' not in d['stdout']
