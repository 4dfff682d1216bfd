"""A private /dev/shm inside the workspace caps (issue 17 item 6), and
globs and directories in return_files (item 7)."""
import base64

from helpers import b64, ok

CONFIG = {'workspace_limit_mb': 16, 'max_return_files': 10,
          'max_file_bytes': 4 * 1024 * 1024, 'max_return_bytes': 6 * 1024 * 1024,
          'time_limit_seconds': 60}


def test_multiprocessing_pool(s):
    code = '''
import multiprocessing as mp

def sq(x):
    return x * x

if __name__ == "__main__":
    with mp.Pool(2) as p:
        print(sum(p.map(sq, range(10))))
    lock = mp.Lock()
    with lock:
        print("locked")
'''
    d = ok(s.execute({'code': code, 'api_key': s.admin_key}))
    assert d['stdout'] == '285\nlocked\n', d
    assert d['success'] is True


def test_dev_shm_counts_against_workspace(s):
    # 12 MB in /dev/shm leaves no room for 12 MB in /work: one tmpfs of 16
    code = '''
import errno
with open("/dev/shm/big", "wb") as f:
    f.write(b"x" * (12 << 20))
try:
    with open("/work/big", "wb") as f:
        f.write(b"y" * (12 << 20))
    print("room")
except OSError as e:
    print("full", e.errno == errno.ENOSPC)
try:
    with open("/dev/shm/more", "wb") as f:
        f.write(b"z" * (8 << 20))
    print("room")
except OSError as e:
    print("full", e.errno == errno.ENOSPC)
'''
    d = ok(s.execute({'code': code, 'api_key': s.admin_key}))
    assert d['stdout'] == 'full True\nfull True\n', d


def test_dev_shm_private_per_run(s):
    code = '''
import os
print(sorted(os.listdir("/dev/shm")))
with open("/dev/shm/mark", "w") as f:
    f.write("1")
st = os.statvfs("/dev/shm")
print(st.f_blocks * st.f_frsize <= 16 << 20)
'''
    for _ in range(2):
        d = ok(s.execute({'code': code, 'api_key': s.admin_key}))
        assert d['stdout'] == '[]\nTrue\n', d
