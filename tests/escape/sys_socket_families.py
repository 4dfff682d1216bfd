"""socket()/socketpair() for every non-Unix address family."""
from escape_util import config, report

CONFIG = config()

ATTACK = ('socket() for AF_NETLINK (route, audit, uevent), AF_PACKET, raw '
          'AF_INET, AF_INET6, AF_VSOCK, AF_ALG, AF_KEY, AF_XDP, AF_CAN, '
          'AF_TIPC, AF_RDS, AF_BLUETOOTH, AF_LLC...; the same families with '
          'junk in the upper 32 bits; and socketpair() for each family '
          '(socketpair creates the socket, and may autoload the protocol '
          'module, before it finds the family has no socketpair)')
EXPECTED = ('every non-AF_UNIX socket() and socketpair() fails with EPERM; '
            'AF_UNIX still works')

CODE = r'''
FAMILIES = {'AF_INET': 2, 'AF_INET6': 10, 'AF_NETLINK': 16, 'AF_PACKET': 17,
            'AF_APPLETALK': 5, 'AF_X25': 9, 'AF_KEY': 15, 'AF_RDS': 21,
            'AF_LLC': 26, 'AF_CAN': 29, 'AF_TIPC': 30, 'AF_BLUETOOTH': 31,
            'AF_ALG': 38, 'AF_VSOCK': 40, 'AF_SMC': 43, 'AF_XDP': 44,
            'AF_MCTP': 45, 'AF_IPX': 4, 'AF_PPPOX': 24, 'AF_NFC': 39,
            'AF_QIPCRTR': 42, 'AF_DECnet': 12}
for name, fam in sorted(FAMILIES.items()):
    for typ, tname in ((1, 'STREAM'), (2, 'DGRAM'), (3, 'RAW'),
                       (5, 'SEQPACKET')):
        R['socket %s %s' % (name, tname)] = sc(41, fam, typ, 0)
    R['socket %s high bits' % name] = sc(41, fam | (1 << 32), 2, 0)
    pair = (ctypes.c_int * 2)()
    R['socketpair %s' % name] = sc(53, fam, 1, 0, ctypes.byref(pair))
    R['socketpair %s DGRAM' % name] = sc(53, fam, 2, 0, ctypes.byref(pair))
R['netlink route'] = sc(41, 16, 3, 0)
R['netlink audit'] = sc(41, 16, 3, 9)
R['netlink uevent'] = sc(41, 16, 2, 15)
R['packet raw all'] = sc(41, 17, 3, 0x0300)
R['_unix'] = sc(41, 1, 1, 0)
pair = (ctypes.c_int * 2)()
R['_unix socketpair'] = sc(53, 1, 1, 0, ctypes.byref(pair))
done()
'''


def test(stack):
    r = report(stack, CODE)
    assert r.pop('_unix').startswith('ret:'), 'AF_UNIX socket broken'
    assert r.pop('_unix socketpair') == 'ret:0', 'AF_UNIX socketpair broken'
    bad = {k: v for k, v in r.items() if v != 'errno:EPERM'}
    assert not bad, 'not refused by the filter: %s' % bad
