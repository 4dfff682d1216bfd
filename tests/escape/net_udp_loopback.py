"""Send UDP datagrams to a socket the test binds on 127.0.0.1."""
import socket

from escape_util import assert_denied, config, report

CONFIG = config()

ATTACK = ('send UDP datagrams (IPv4, IPv6, connected and unconnected) to a '
          'socket the test binds on the host loopback')
EXPECTED = ('socket(AF_INET/AF_INET6, SOCK_DGRAM) fails with EPERM; the '
            'host socket receives no datagram')

CODE = r'''
import socket
PORT = %d
def udp(fam, addr, connect):
    s = socket.socket(fam, socket.SOCK_DGRAM)
    if connect:
        s.connect(addr)
        s.send(b'ESCAPED')
    else:
        s.sendto(b'ESCAPED', addr)
    return s.getsockname()
R['sendto'] = attempt(udp, socket.AF_INET, ('127.0.0.1', PORT), False)
R['connect_send'] = attempt(udp, socket.AF_INET, ('127.0.0.1', PORT), True)
R['broadcast'] = attempt(udp, socket.AF_INET, ('255.255.255.255', PORT), False)
R['inet6'] = attempt(udp, socket.AF_INET6, ('::1', PORT), False)
R['raw_syscall_dgram'] = sc(41, 2, 2, 0)
done()
'''


def test(stack):
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(('127.0.0.1', 0))
    rx.settimeout(0.3)
    try:
        r = report(stack, CODE % rx.getsockname()[1])
        assert_denied(r, allowed=('errno:EPERM',))
        try:
            data, peer = rx.recvfrom(65536)
            raise AssertionError('the host socket received %r from %r'
                                 % (data, peer))
        except socket.timeout:
            pass
    finally:
        rx.close()
