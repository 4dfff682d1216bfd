"""Search everything the script can read for the admin key."""
import os

from escape_util import FAR_DEADLINE, config, report

# Walks all of /usr (190,000 entries here): seconds on a slow machine.
CONFIG = config(**FAR_DEADLINE)

ATTACK = ('walk the whole file system the script can see (/, /proc including '
          '/proc/1 and /proc/self, /etc, /dev, /tmp, /work; under /usr only '
          'the files modified after the key was generated) and grep every '
          'readable file for the admin '
          'key and the worker environment canary, within the time limit')
EXPECTED = ('neither the admin key nor the canary is found anywhere (files '
            'under /usr newer than the key are read too)')

CODE = r'''
import json, os, stat, sys, time
# Given reversed, so that script.py itself does not contain them.
NEEDLES = [%r[::-1].encode(), %r[::-1].encode()]
SINCE = %f
t0 = time.time()
hits, newer, scanned, errors = [], [], 0, 0
SKIP = {'/proc/self/mem', '/proc/self/pagemap', '/proc/self/clear_refs',
        '/proc/thread-self'}
def scan(path):
    global scanned, errors
    try:
        st = os.lstat(path)
    except OSError:
        errors += 1
        return
    if stat.S_ISDIR(st.st_mode):
        try:
            names = os.listdir(path)
        except OSError:
            errors += 1
            return
        for n in names:
            p = path.rstrip('/') + '/' + n
            if p == '/usr':
                continue
            if p.startswith('/proc/') and p.endswith(('/mem', '/pagemap',
                    '/clear_refs', '/kcore', '/task')):
                continue
            scan(p)
    elif stat.S_ISREG(st.st_mode) or path.startswith('/proc/'):
        if stat.S_ISLNK(st.st_mode) or path in SKIP:
            return
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        except OSError:
            errors += 1
            return
        try:
            data = os.read(fd, 1 << 22)
        except OSError:
            errors += 1
            data = b''
        os.close(fd)
        scanned += 1
        for n in NEEDLES:
            if n in data:
                hits.append(path)
for top in ('/etc', '/dev', '/tmp', '/work', '/proc'):
    scan(top)
usr_entries = 0
for root, dirs, files in os.walk('/usr'):
    usr_entries += len(files) + len(dirs)
    for n in files + dirs:
        try:
            st = os.lstat(os.path.join(root, n))
        except OSError:
            continue
        # Anything holding the key was written after the key was made;
        # those few files are read whole (other jobs on the host may be
        # installing packages meanwhile).
        if max(st.st_mtime, st.st_ctime) >= SINCE and \
                stat.S_ISREG(st.st_mode) and len(newer) < 5000:
            newer.append(os.path.join(root, n))
            scan(newer[-1])
print(json.dumps({'hits': hits, 'newer': len(newer), 'scanned': scanned,
                  'errors': errors, 'usr entries': usr_entries,
                  'secs': time.time() - t0}))
'''


def test(stack):
    # The key was generated before this stack started: a file holding it
    # would be newer than the stack's configuration.
    since = os.path.getmtime(stack.conf_path) - 60
    r = report(stack, CODE % (stack.admin_key[::-1], stack.env_canary[::-1],
                              since), prelude=False, timeout=180)
    assert r['scanned'] > 50 and r['usr entries'] > 1000, r
    assert r['hits'] == [], 'found the admin key or canary in %s' % r['hits']
