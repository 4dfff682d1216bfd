"""Set-id binaries on the read-only /usr: su, passwd, mount, newgrp..."""
from escape_util import FAR_DEADLINE, config, report

# Walks all of /usr and starts each setuid file: seconds on a slow machine.
CONFIG = config(**FAR_DEADLINE)

ATTACK = ('find every setuid/setgid file under /usr, start each one (no '
          'arguments, stdin an open pipe nobody writes, so the ones that '
          'prompt stay alive) and sample /proc/<pid>/status while it runs; '
          'also run "mount -t tmpfs x /tmp" and "su -c id"')
EXPECTED = ('no process ever runs with any uid or gid but the jail\'s 1000 '
            '(NO_NEW_PRIVS and the nosuid /usr mount); mount and su fail')

CODE = r'''
import stat, subprocess, time
found = []
for root, dirs, files in os.walk('/usr'):
    for n in files:
        p = os.path.join(root, n)
        try:
            st = os.lstat(p)
        except OSError:
            continue
        if stat.S_ISREG(st.st_mode) and \
                st.st_mode & (stat.S_ISUID | stat.S_ISGID):
            found.append(p)
R['found'] = found
ids = {}
for p in found:
    rpipe, wpipe = os.pipe()
    try:
        proc = subprocess.Popen([p], stdin=rpipe, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
    except OSError as e:
        ids[p] = ['exec ' + _ename(e.errno)]
        continue
    seen = set()
    for i in range(10):
        try:
            with open('/proc/%d/status' % proc.pid) as f:
                for line in f:
                    if line.startswith(('Uid:', 'Gid:')):
                        seen.add(line.split(':')[0] + ' ' +
                                 ' '.join(line.split()[1:]))
        except OSError:
            pass
        if proc.poll() is not None:
            break
        time.sleep(0.02)
    proc.kill()
    proc.wait()
    os.close(rpipe)
    os.close(wpipe)
    ids[p] = sorted(seen)
R['ids'] = ids
m = subprocess.run(['/usr/bin/mount', '-t', 'tmpfs', 'x', '/tmp'],
                   capture_output=True, stdin=subprocess.DEVNULL)
R['mount'] = m.returncode
s = subprocess.run(['/usr/bin/su', '-c', 'id'], capture_output=True,
                   stdin=subprocess.DEVNULL, timeout=5)
R['su'] = [s.returncode, s.stdout.decode(errors='replace')]
R['usr flags'] = [l.split()[5] for l in open('/proc/self/mountinfo')
                  if l.split()[4] == '/usr'][0]
done()
'''


def test(stack):
    r = report(stack, CODE)
    assert r['found'], 'no set-id binary to try: %s' % r
    for p, seen in r['ids'].items():
        for line in seen:
            if line.startswith(('Uid', 'Gid')):
                assert line.split()[1:] == ['1000'] * 4, (p, seen)
    assert r['mount'] != 0, r
    assert r['su'][0] != 0 and 'uid=0' not in r['su'][1], r['su']
    assert 'nosuid' in r['usr flags'].split(','), r['usr flags']
