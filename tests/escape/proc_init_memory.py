"""Read the jail's init through /proc/1: its memory is the worker's."""
from escape_util import config, report

CONFIG = config()

ATTACK = ('PID 1 in the jail is a clone of the worker (same memory: the '
          'admin key, earlier requests): read /proc/1/mem, environ, auxv, '
          'maps, smaps, pagemap, stack, syscall, fd/, fdinfo/, map_files/, '
          'root, cwd, exe, and write its oom_score_adj, comm, '
          'coredump_filter; read /proc/1/cmdline')
EXPECTED = ('everything but the harmless world-readable files fails (init is '
            'not dumpable: EACCES/EPERM); cmdline holds the worker\'s argv '
            'only, never the admin key')

CODE = r'''
def rd(p):
    with open(p, 'rb') as f:
        return f.read(4096)
for n in ('mem', 'environ', 'auxv', 'maps', 'smaps', 'pagemap', 'stack',
          'syscall', 'personality', 'io', 'timers'):
    R['read ' + n] = attempt(rd, '/proc/1/' + n)
for n in ('fd', 'fdinfo', 'map_files', 'root', 'cwd'):
    R['list ' + n] = attempt(os.listdir, '/proc/1/' + n)
for n in ('root', 'cwd', 'exe'):
    R['readlink ' + n] = attempt(os.readlink, '/proc/1/' + n)
R['open fd 204 (the control socket)'] = attempt(rd, '/proc/1/fd/204')
def wr(p, data):
    with open(p, 'wb') as f:
        f.write(data)
R['write oom_score_adj'] = attempt(wr, '/proc/1/oom_score_adj', b'1000')
R['write comm'] = attempt(wr, '/proc/1/comm', b'pwned')
R['write coredump_filter'] = attempt(wr, '/proc/1/coredump_filter', b'0x7f')
R['write mem'] = attempt(wr, '/proc/1/mem', b'x')
R['_cmdline'] = rd('/proc/1/cmdline').decode(errors='replace')
done()
'''


def test(stack):
    r = report(stack, CODE)
    cmdline = r.pop('_cmdline')
    assert stack.admin_key not in cmdline, cmdline
    bad = {k: v for k, v in r.items()
           if v not in ('errno:EACCES', 'errno:EPERM', 'errno:ENOENT')}
    assert not bad, 'init exposed through /proc/1: %s' % bad
