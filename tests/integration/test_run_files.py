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


def files_of(d):
    return {k: (base64.b64decode(v['content_base64']) if 'content_base64' in v
                else v) for k, v in d['output_files'].items()}


TREE = '''
import os
for name in ("b.png", "a.png", "c.txt", ".hidden.png", "sub/d.png",
             "sub/deep/e.png", "out/x", "out/y/z", "out/y/w/v"):
    os.makedirs(os.path.dirname(name) or ".", exist_ok=True)
    with open(name, "w") as f:
        f.write("<" + name + ">")
os.symlink("/etc/passwd", "out/host")
os.symlink("/work/c.txt", "out/inside")
os.symlink("/etc", "out/etcdir")
os.symlink("/etc", "etcdir")
os.symlink("/etc/hostname", "evil.png")
os.mkfifo("out/fifo")
'''


def test_return_glob(s):
    d = ok(s.execute({'code': TREE, 'api_key': s.admin_key,
                      'return_files': ['*.png', 'sub/*.png']}))
    got = files_of(d)
    assert list(got) == ['a.png', 'b.png', 'sub/d.png'], got
    assert got['a.png'] == b'<a.png>' and got['sub/d.png'] == b'<sub/d.png>'


def test_return_directory(s):
    d = ok(s.execute({'code': TREE, 'api_key': s.admin_key,
                      'return_files': ['out/']}))
    got = files_of(d)
    # every regular file beneath, sorted; symlinks, the fifo and the
    # symlinked directory are skipped, never followed
    assert list(got) == ['out/x', 'out/y/w/v', 'out/y/z'], got
    assert got['out/y/w/v'] == b'<out/y/w/v>'


def test_return_glob_and_directory_never_follow_symlinks(s):
    d = ok(s.execute({'code': TREE, 'api_key': s.admin_key,
                      'return_files': ['etcdir/', 'etcdir/*', '*/passwd',
                                       'out/etcdir/', 'e*']}))
    got = files_of(d)
    assert got['etcdir/'] == {'error': 'Symbolic links are not returned.'}, got
    assert got['out/etcdir/'] == {'error': 'Symbolic links are not returned.'}, got
    assert got['etcdir/*'] == {'error': 'No file matches.'}, got
    assert got['*/passwd'] == {'error': 'No file matches.'}, got
    assert got['e*'] == {'error': 'No file matches.'}, got
    assert len(got) == 5, got


def test_return_nothing_matches(s):
    d = ok(s.execute({'code': 'open("a.txt", "w").write("a")',
                      'return_files': ['*.jpg', 'nope/', 'a.txt/']}))
    got = files_of(d)
    assert got == {'*.jpg': {'error': 'No file matches.'},
                   'nope/': {'error': 'Directory not found after execution.'},
                   'a.txt/': {'error': 'Not a directory.'}}, got


def test_return_expansion_bounded_by_max_return_files(s):
    code = ('import os\nos.mkdir("many")\nfor i in range(30):\n'
            '    open("many/f%02d" % i, "w").write(str(i))\n'
            'open("x.txt", "w").write("x")')
    d = ok(s.execute({'code': code, 'return_files': ['many/', 'x.txt'],
                      'api_key': s.admin_key}))
    got = files_of(d)
    names = [k for k in got if k.startswith('many/f')]
    # x.txt (asked by name) first, then the first 9 of many/ by name
    assert names == ['many/f%02d' % i for i in range(9)], list(got)
    assert got['x.txt'] == b'x'
    assert '30 files match; 21 more' in got['many/']['error'], got['many/']
    assert len(got) == 11


def test_return_expansion_bounded_by_bytes(s):
    code = ('import os\nos.mkdir("big")\nfor i in range(3):\n'
            '    open("big/%d" % i, "wb").write(bytes([65 + i]) * (3 << 20))')
    d = ok(s.execute({'code': code, 'return_files': ['big/'],
                      'api_key': s.admin_key}))
    of = d['output_files']
    assert of['big/0']['size_bytes'] == 3 << 20 and 'content_base64' in of['big/0']
    assert of['big/1']['size_bytes'] == 3 << 20 and 'content_base64' in of['big/1'] \
        or of['big/1']['error'].startswith('Returned files together'), of['big/1']
    assert of['big/2']['error'] == 'Returned files together exceed max_return_bytes.', of['big/2']


def test_return_pattern_validation(s):
    from helpers import err
    for bad in ('/abs/', '../*', 'a//', './*', '*/../x'):
        err(s.execute({'code': 'print(1)', 'return_files': [bad]}), 400,
            'ValidationError')
