# selftest.py: run by every worker, in a real jail, before it serves.
# Prints PROBE-OK, or one line per broken confinement property. The worker
# prepends the parameters: _RUNTIME_DIR, _STATE_DIR, _NPROC.
import os
import sys

fails = []


def check(name, ok, detail=''):
    if not ok:
        fails.append(name + (': ' + detail if detail else ''))


status = {}
with open('/proc/self/status') as f:
    for line in f:
        k, _, v = line.partition(':')
        status[k] = v.strip()
check('seccomp', status.get('Seccomp') == '2', 'no seccomp filter is active')
check('no_new_privs', status.get('NoNewPrivs') == '1')
for cap in ('CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb'):
    check('capabilities', status.get(cap) == '0' * 16,
          '%s is %s' % (cap, status.get(cap)))
check('uid', os.getuid() == 1000 and os.getgid() == 1000,
      'uid %d gid %d' % (os.getuid(), os.getgid()))

import socket
try:
    socket.socket(socket.AF_INET, socket.SOCK_STREAM).close()
    check('network', False, 'an AF_INET socket could be created')
except OSError:
    pass
try:
    with open('/proc/self/net/dev') as f:
        ifaces = [l.split(':')[0].strip() for l in f.read().splitlines()[2:]]
    check('network_namespace', ifaces in ([], ['lo']),
          'interfaces visible: %s' % ifaces)
except OSError:
    pass

for p in ['/etc/shadow', '/home', '/root', '/var', '/run', '/srv', '/sys',
          '/boot', '/etc/nginx', '/etc/pyexec', _RUNTIME_DIR, _STATE_DIR]:
    check('host_hidden', not os.path.lexists(p), p + ' is visible')
for p in ['/usr/.pyexec-probe', '/.pyexec-probe', '/etc/.pyexec-probe']:
    try:
        open(p, 'w').close()
        check('read_only_root', False, p + ' was writable')
    except OSError:
        pass
try:
    open('/work/.pyexec-probe', 'w').close()
    os.unlink('/work/.pyexec-probe')
except OSError as e:
    check('workspace', False, 'cannot write /work: %s' % e)

r, w = os.pipe()
children, limited = [], False
for _ in range(_NPROC + 2):
    try:
        pid = os.fork()
    except OSError:
        limited = True
        break
    if pid == 0:
        os.close(w)
        os.read(r, 1)
        os._exit(0)
    children.append(pid)
os.close(w)
for pid in children:
    os.waitpid(pid, 0)
check('process_limit', limited,
      'forked %d processes with max_processes %d' % (len(children), _NPROC))

print('\n'.join(fails) if fails else 'PROBE-OK')
