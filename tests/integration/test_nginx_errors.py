"""Issue 10, item 9: every error nginx itself produces is JSON.

Requests that never reach a worker (a malformed request line, a NUL in the
path, an over-long URI or header, plain HTTP on the TLS port, an unknown
method or version) are answered by nginx. Each answer must be JSON with
the right status, never nginx's HTML page.
"""
import json
import socket
import ssl

MODES = ('zygote',)

CASES = [
    ('NUL in the path', b'GET /execute%00 HTTP/1.1\r\nHost: x\r\n\r\n', 400),
    ('NUL in /healthz', b'GET /healthz%00x HTTP/1.1\r\nHost: x\r\n\r\n', 400),
    ('malformed request line', b'GARBAGE\r\n\r\n', 400),
    ('no method', b' / HTTP/1.1\r\nHost: x\r\n\r\n', 400),
    ('URI over 8 KB', b'GET /' + b'a' * 9000 + b' HTTP/1.1\r\nHost: x\r\n\r\n',
     414),
    ('header over 8 KB', b'GET / HTTP/1.1\r\nHost: x\r\nX-Big: ' +
     b'a' * 9000 + b'\r\n\r\n', 400),
    ('TRACE', b'TRACE / HTTP/1.1\r\nHost: x\r\n\r\n', 405),
    ('HTTP/3.0', b'GET / HTTP/3.0\r\nHost: x\r\n\r\n', 505),
    ('unknown transfer coding', b'POST /execute HTTP/1.1\r\nHost: x\r\n'
     b'Transfer-Encoding: gzip\r\n\r\n', 501),
    ('no Host in HTTP/1.1', b'GET / HTTP/1.1\r\n\r\n', 400),
]


def _exchange(s, raw, tls=True):
    sock = socket.create_connection((s.host, s.port), timeout=30)
    if tls:
        ctx = ssl.create_default_context(cafile=s.cert)
        sock = ctx.wrap_socket(sock, server_hostname=s.host)
    try:
        sock.sendall(raw)
        data = b''
        while True:
            try:
                b = sock.recv(65536)
            except (ConnectionResetError, ssl.SSLError):
                break
            if not b:
                break
            data += b
    finally:
        sock.close()
    head, _, body = data.partition(b'\r\n\r\n')
    lines = head.decode('latin-1').split('\r\n')
    status = int(lines[0].split()[1])
    hdrs = {}
    for l in lines[1:]:
        k, _, v = l.partition(':')
        hdrs[k.strip().lower()] = v.strip()
    if hdrs.get('transfer-encoding') == 'chunked':
        out = b''
        while body:
            n, _, rest = body.partition(b'\r\n')
            size = int(n, 16)
            if size == 0:
                break
            out += rest[:size]
            body = rest[size + 2:]
        body = out
    return status, hdrs, body


def _check(what, status, hdrs, body, want):
    assert status == want, '%s: %d, want %d: %r' % (what, status, want,
                                                     body[:200])
    assert hdrs.get('content-type') == 'application/json', (what, hdrs, body)
    doc = json.loads(body)
    assert doc['status'] == 'error' and doc['error_details']['type'], \
        (what, doc)


def test_nginx_errors_are_json(s):
    for what, raw, want in CASES:
        _check(what, *_exchange(s, raw), want)


def test_plain_http_on_tls_port_is_json(s):
    _check('plain HTTP', *_exchange(
        s, b'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n', tls=False), 400)


def test_internal_locations_not_reachable(s):
    st, hdrs, body = _exchange(
        s, b'GET /.pyexec-error/500 HTTP/1.1\r\nHost: x\r\n'
           b'Connection: close\r\n\r\n')
    _check('internal location', st, hdrs, body, 404)
