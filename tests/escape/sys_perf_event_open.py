"""perf_event_open(): hardware and software counters, tracepoints."""
from escape_util import assert_denied, config, report

CONFIG = config()

ATTACK = ('perf_event_open for a software cpu-clock counter on itself, a '
          'hardware cycle counter system-wide on CPU 0, and a tracepoint')
EXPECTED = 'every call fails with EPERM'

CODE = r'''
class Attr(ctypes.Structure):
    _fields_ = [('type', ctypes.c_uint32), ('size', ctypes.c_uint32),
                ('config', ctypes.c_uint64), ('pad', ctypes.c_uint8 * 112)]
for name, typ, cfg, pid, cpu in (('sw cpu-clock self', 1, 0, 0, -1),
                                 ('hw cycles cpu0', 0, 0, -1, 0),
                                 ('tracepoint', 2, 1, 0, -1)):
    a = Attr(typ, 128, cfg)
    R[name] = sc(298, ctypes.byref(a), pid, cpu, -1, 0)
done()
'''


def test(stack):
    assert_denied(report(stack, CODE), allowed=('errno:EPERM',))
