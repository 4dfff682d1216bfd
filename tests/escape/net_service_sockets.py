"""Connect to the service itself: nginx's port and the FastCGI socket."""
from escape_util import config, report
from escape_util import requests_per_run

CONFIG = config()

ATTACK = ('connect to nginx\'s TCP port on 127.0.0.1 and to the FastCGI '
          'Unix socket by its host path (stack.sock), directly and via '
          '/proc/1/root, /proc/self/root and ../ walks, and send a FastCGI '
          'BEGIN_REQUEST')
EXPECTED = ('TCP is refused by seccomp (EPERM); the socket path does not '
            'exist in the jail (ENOENT): no request reaches nginx or a worker')

CODE = r'''
import socket
PORT, SOCK = %d, %r
def tcp():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(1)
    s.connect(('127.0.0.1', PORT))
def unix(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(1)
    s.connect(path)
    # FCGI_BEGIN_REQUEST, role responder: a worker would start a request.
    s.sendall(bytes([1, 1, 0, 1, 0, 8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]))
    return s.recv(100)
R['nginx_tcp'] = attempt(tcp)
R['fcgi_path'] = attempt(unix, SOCK)
R['fcgi_proc1_root'] = attempt(unix, '/proc/1/root' + SOCK)
R['fcgi_self_root'] = attempt(unix, '/proc/self/root' + SOCK)
R['fcgi_dotdot'] = attempt(unix, '/work/../../../..' + SOCK)
R['_stat_dir'] = attempt(os.stat, os.path.dirname(SOCK))
done()
'''


def test(stack):
    log = stack.worker_log_text()
    served_before, exec_before = log.count(' role='), log.count('POST /execute')
    r = report(stack, CODE % (stack.port, stack.sock))
    assert r.pop('nginx_tcp') == 'errno:EPERM', r
    assert r.pop('_stat_dir') == 'errno:ENOENT', r
    for k, v in r.items():
        # /proc/1/root: init is not dumpable, so its root link is EACCES.
        assert v in ('errno:ENOENT', 'errno:EACCES'), \
            'FastCGI socket probe %s: %s' % (k, v)
    # Exactly our requests reached a worker: one /execute, or a session's
    # make, cell and release (a route that writes its own reply logs no
    # role= line, hence at most) and no /execute.
    log = stack.worker_log_text()
    if requests_per_run() == 1:
        assert log.count(' role=') == served_before + 1, log[-2000:]
    else:
        assert log.count('POST /execute') == exec_before, log[-2000:]
        assert log.count(' role=') <= served_before + requests_per_run(), \
            log[-2000:]
