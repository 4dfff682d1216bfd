"""Reach abstract Unix sockets the test binds on the host."""
import secrets
import socket

from escape_util import config, report

CONFIG = config()

ATTACK = ('connect to a stream and send to a datagram abstract Unix socket '
          '("\\0pyexec-escape-test-...") bound by the test on the host; '
          'also list the abstract names the jail can see in /proc/net/unix')
EXPECTED = ('ECONNREFUSED (nothing of that name in the jail\'s network '
            'namespace); the host sockets see no connection or datagram; '
            'the jail sees none of the host\'s Unix sockets')

CODE = r'''
import socket
NAME = %r
def stream():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(1)
    s.connect('\0' + NAME)
    s.sendall(b'ESCAPED')
def dgram():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.sendto(b'ESCAPED', '\0' + NAME + '-dgram')
def seqpacket():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect('\0' + NAME)
R['stream'] = attempt(stream)
R['dgram'] = attempt(dgram)
R['seqpacket'] = attempt(seqpacket)
R['_unix_table'] = open('/proc/self/net/unix').read().splitlines()[1:]
done()
'''


def test(stack):
    name = 'pyexec-escape-test-' + secrets.token_hex(6)
    st = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    st.bind('\0' + name)
    st.listen(4)
    st.settimeout(0.3)
    dg = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    dg.bind('\0' + name + '-dgram')
    dg.settimeout(0.3)
    try:
        r = report(stack, CODE % name)
        table = r.pop('_unix_table')
        for k, v in r.items():
            assert v in ('errno:ECONNREFUSED', 'errno:ENOENT'), \
                'abstract socket probe %s: %s' % (k, v)
        assert not any(name in l for l in table), table
        assert table == [], 'the jail sees Unix sockets: %r' % table
        for s in (st, dg):
            try:
                if s is st:
                    c, _ = s.accept()
                    c.close()
                    raise AssertionError('the host stream socket got a '
                                         'connection')
                data = s.recv(100)
                raise AssertionError('the host datagram socket got %r'
                                     % data)
            except socket.timeout:
                pass
    finally:
        st.close()
        dg.close()
