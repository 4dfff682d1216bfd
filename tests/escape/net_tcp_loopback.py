"""Connect out over TCP to a listener the test opens on 127.0.0.1."""
import socket

from escape_util import assert_denied, config, report

CONFIG = config()

ATTACK = ('open TCP (IPv4 and IPv6) sockets and connect to a listener the '
          'test holds on the host loopback, directly and through '
          'socket.create_connection; read the jail network interfaces')
EXPECTED = ('socket(AF_INET/AF_INET6) fails with EPERM (seccomp); the '
            'listener accepts nothing; the jail has no interface but a '
            'down loopback')

CODE = r'''
import socket
PORT = %d
def tcp(fam, addr):
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(1)
    s.connect(addr)
    s.sendall(b'ESCAPED')
    return s.getsockname()
R['inet'] = attempt(tcp, socket.AF_INET, ('127.0.0.1', PORT))
R['inet_any'] = attempt(tcp, socket.AF_INET, ('0.0.0.0', PORT))
R['inet6'] = attempt(tcp, socket.AF_INET6, ('::1', PORT))
R['create_connection'] = attempt(socket.create_connection,
                                 ('localhost', PORT), 1)
# A raw socket() on the syscall level, bypassing the socket module.
R['raw_syscall_inet'] = sc(41, 2, 1, 0)
with open('/proc/self/net/dev') as f:
    ifaces = [l.split(':')[0].strip() for l in f.readlines()[2:]]
R['_ifaces'] = ifaces
R['_route'] = open('/proc/self/net/route').read().splitlines()[1:]
done()
'''


def test(stack):
    lst = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lst.bind(('127.0.0.1', 0))
    lst.listen(8)
    lst.settimeout(0.3)
    port = lst.getsockname()[1]
    try:
        r = report(stack, CODE % port)
        ifaces, route = r.pop('_ifaces'), r.pop('_route')
        assert_denied(r, allowed=('errno:EPERM',))
        assert ifaces == ['lo'], 'jail network interfaces: %r' % ifaces
        assert route == [], 'jail has routes: %r' % route
        try:
            conn, peer = lst.accept()
            conn.close()
            raise AssertionError('the host listener got a connection from '
                                 '%r' % (peer,))
        except socket.timeout:
            pass
    finally:
        lst.close()
