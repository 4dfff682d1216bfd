"""Privilege: set*id, capset, extra seccomp filters; the process's state."""
from escape_util import assert_denied, config, report

CONFIG = config()

ATTACK = ('setuid(0), setgid(0), setresuid, setgroups, setfsuid, capset with '
          'a full set, seccomp(SET_MODE_FILTER), prctl(PR_CAP_AMBIENT_RAISE), '
          'prctl(PR_SET_NO_NEW_PRIVS, 0); read the capability sets, '
          'NoNewPrivs and Seccomp from /proc/self/status and the bounding '
          'set with PR_CAPBSET_READ')
EXPECTED = ('each call fails (EPERM, EINVAL for clearing no_new_privs); every '
            'capability set is empty; NoNewPrivs 1; Seccomp 2 (filter)')

CODE = r'''
R['setuid 0'] = sc(105, 0)
R['setgid 0'] = sc(106, 0)
R['setresuid 0'] = sc(117, 0, 0, 0)
R['setgroups'] = sc(116, 0, None)
R['setfsuid 0'] = sc(122, 0)
class Hdr(ctypes.Structure):
    _fields_ = [('version', ctypes.c_uint32), ('pid', ctypes.c_int)]
class Data(ctypes.Structure):
    _fields_ = [('effective', ctypes.c_uint32), ('permitted', ctypes.c_uint32),
                ('inheritable', ctypes.c_uint32)]
h = Hdr(0x20080522, 0)
d = (Data * 2)(Data(0xffffffff, 0xffffffff, 0xffffffff),
               Data(0xffffffff, 0xffffffff, 0xffffffff))
R['capset full'] = sc(126, ctypes.byref(h), ctypes.byref(d))
R['seccomp filter'] = sc(317, 1, 0, None)
_libc.prctl.restype = ctypes.c_int
def prctl(*a):
    ctypes.set_errno(0)
    r = _libc.prctl(*[ctypes.c_ulong(x) for x in a])
    return 'ret:%d' % r if r != -1 else 'errno:' + _ename(ctypes.get_errno())
R['ambient raise CAP_SYS_ADMIN'] = prctl(47, 2, 21, 0, 0)
R['clear no_new_privs'] = prctl(38, 0, 0, 0, 0)
status = dict(l.split(':', 1) for l in open('/proc/self/status'))
R['_status'] = {k: status[k].strip() for k in (
    'CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb', 'NoNewPrivs',
    'Seccomp', 'Uid', 'Gid', 'Groups')}
R['_bounding'] = [c for c in range(64) if _libc.prctl(23, c, 0, 0, 0) == 1]
done()
'''


def test(stack):
    r = report(stack, CODE)
    st, bnd = r.pop('_status'), r.pop('_bounding')
    nnp = r.pop('clear no_new_privs')
    assert nnp in ('errno:EINVAL', 'errno:EPERM'), nnp
    assert_denied(r, allowed=('errno:EPERM',))
    for k in ('CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb'):
        assert int(st[k], 16) == 0, st
    assert st['NoNewPrivs'] == '1' and st['Seccomp'] == '2', st
    assert bnd == [], bnd
