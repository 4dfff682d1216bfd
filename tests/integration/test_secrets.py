"""The admin key is never in a jailed process's memory, fds or environment."""
import zlib

from helpers import ok, unb64

CONFIG = {'max_file_bytes': 64 * 1024 * 1024, 'workspace_limit_mb': 512,
          'memory_limit_mb': 2048, 'time_limit_seconds': 20}

# The script dumps every readable mapping of itself, compressed; the test,
# which knows the key, searches the dump. (A script that searched itself
# would have to hold the needle.)
SCAN = '''
import os, zlib
z = zlib.compressobj(1)
out = open("mem.z", "wb")
with open("/proc/self/maps") as maps, open("/proc/self/mem", "rb", 0) as mem:
    regions = [l.split() for l in maps]
for r in regions:
    start, end = (int(x, 16) for x in r[0].split("-"))
    if "r" not in r[1] or (len(r) > 5 and r[5] == "[vvar]"):
        continue
    try:
        with open("/proc/self/mem", "rb", 0) as mem:
            mem.seek(start)
            out.write(z.compress(mem.read(end - start)))
    except (OSError, ValueError, OverflowError):
        pass
out.write(z.flush())
out.close()
print(sorted(os.listdir("/proc/self/fd")))
print(sorted(os.environ))
'''


def test_admin_key_not_in_jail_memory(s):
    d = ok(s.execute({'code': SCAN, 'api_key': s.admin_key,
                      'return_files': ['mem.z']}, timeout=120))
    dump = zlib.decompress(unb64(d['output_files']['mem.z']['content_base64']))
    assert len(dump) > 1024 * 1024, len(dump)
    assert s.admin_key.encode() not in dump, 'admin key found in the jail'
    fds, env = d['stdout'].splitlines()
    # 0-2, plus the one the listing itself opened
    assert eval(fds) in (['0', '1', '2', '3'], ['0', '1', '2']), fds
    assert eval(env) == ['HOME', 'LANG', 'LC_ALL', 'LC_CTYPE', 'MPLBACKEND',
                         'MPLCONFIGDIR', 'OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS',
                         'PATH', 'TMPDIR'] or 'LC_CTYPE' not in eval(env), env
    assert not any('KEY' in k or 'CREDENTIAL' in k for k in eval(env)), env
