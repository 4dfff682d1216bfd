"""bpf(): maps and programs, a long line of verifier escapes."""
from escape_util import assert_denied, config, report

CONFIG = config()

ATTACK = ('bpf(BPF_MAP_CREATE) for an array map, bpf(BPF_PROG_LOAD) of a '
          'two-instruction socket filter, and BPF_BTF_LOAD')
EXPECTED = 'every call fails with EPERM'

CODE = r'''
class MapAttr(ctypes.Structure):
    _fields_ = [('map_type', ctypes.c_uint32), ('key_size', ctypes.c_uint32),
                ('value_size', ctypes.c_uint32),
                ('max_entries', ctypes.c_uint32),
                ('pad', ctypes.c_uint8 * 112)]
m = MapAttr(2, 4, 8, 16)                     # BPF_MAP_TYPE_ARRAY
R['BPF_MAP_CREATE'] = sc(321, 0, ctypes.byref(m), ctypes.sizeof(m))
# r0 = 0; exit
insns = (ctypes.c_uint64 * 2)(0x00000000000000b7, 0x0000000000000095)
lic = ctypes.c_char_p(b'GPL')
class ProgAttr(ctypes.Structure):
    _fields_ = [('prog_type', ctypes.c_uint32), ('insn_cnt', ctypes.c_uint32),
                ('insns', ctypes.c_uint64), ('license', ctypes.c_uint64),
                ('pad', ctypes.c_uint8 * 112)]
p = ProgAttr(1, 2, ctypes.addressof(insns),
             ctypes.cast(lic, ctypes.c_void_p).value)   # SOCKET_FILTER
R['BPF_PROG_LOAD'] = sc(321, 5, ctypes.byref(p), ctypes.sizeof(p))
R['BPF_BTF_LOAD'] = sc(321, 18, ctypes.byref(m), ctypes.sizeof(m))
done()
'''


def test(stack):
    assert_denied(report(stack, CODE), allowed=('errno:EPERM',))
