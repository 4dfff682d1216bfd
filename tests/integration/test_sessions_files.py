"""Sessions (issue 11), priority 3: /run, the file routes (binary content,
every bad path, symlinks planted by the session to host files and to other
sessions never followed), display (matplotlib figures as PNG, display())."""
import base64
import os
import urllib.parse

from sess_helpers import call, create, run, cell, delete

CONFIG = {'rate_limit_per_minute': 1000, 'daily_quota': 100000}


def _file(s, sid, path, method='GET', body=None):
    h = {'Content-Type': 'application/octet-stream'} if body is not None else {}
    st, hdrs, data = s.request(method, '/sessions/%s/files/%s' % (sid, path),
                               body, h)
    return st, hdrs, data


def test_session_run_shell_in_the_jail(s):
    sid = create(s)
    st, doc, _ = call(s, 'POST', '/sessions/%s/run' % sid,
                      {'cmd': 'pwd; echo data > f.txt; cat; exit 3',
                       'stdin_data': 'in\n'}, admin=True)
    assert st == 200, doc
    d = doc['execution_details']
    assert d['stdout'] == '/work\nin\n' and d['exit_code'] == 3, d
    assert d['session_alive'] is True
    assert cell(s, sid, 'open("f.txt").read()')['result'] == "'data\\n'"
    st, doc, _ = call(s, 'POST', '/sessions/%s/run' % sid, {'code': 'x'},
                      admin=True)
    assert st == 400, doc
    delete(s, sid)


def test_session_files_roundtrip_binary(s):
    sid = create(s)
    blob = bytes(range(256)) * 40 + b'\x00\xff'
    st, _, data = _file(s, sid, 'dir/sub/blob.bin', 'PUT', blob)
    assert st == 200, data
    assert cell(s, sid, 'len(open("dir/sub/blob.bin", "rb").read())')['result'] \
        == str(len(blob))
    st, hdrs, data = _file(s, sid, 'dir/sub/blob.bin')
    assert st == 200 and data == blob, (st, data[:100])
    assert hdrs['content-type'] == 'application/octet-stream'
    st, doc, _ = call(s, 'GET', '/sessions/%s/files' % sid)
    assert st == 200, doc
    paths = {f['path']: f for f in doc['files']}
    assert paths['dir/sub/blob.bin']['size_bytes'] == len(blob), doc
    assert paths['dir']['type'] == 'dir'
    st, doc, _ = call(s, 'POST', '/sessions/%s/move' % sid,
                      {'from': 'dir/sub/blob.bin', 'to': 'moved.bin'})
    assert st == 200, doc
    assert _file(s, sid, 'moved.bin')[2] == blob
    assert _file(s, sid, 'dir/sub/blob.bin')[0] == 404
    st, _, _ = _file(s, sid, 'moved.bin', 'DELETE')
    assert st == 200
    st, _, data = _file(s, sid, 'moved.bin')
    assert st == 404, data
    # A cell's output file through return_files, from the workspace.
    d = cell(s, sid, 'open("r.txt", "w").write("ret")', return_files=['r.txt'])
    assert base64.b64decode(d['output_files']['r.txt']['content_base64']) == b'ret'
    delete(s, sid)


def test_session_file_paths_are_checked(s):
    sid = create(s)
    for bad in ('..', '../x', 'a/../../x', '%2e%2e/x', '%2fetc%2fpasswd',
                'a//b', 'a/./b', '%00', 'x%0a'):
        st, _, data = _file(s, sid, bad)
        assert st in (400, 404), (bad, st, data)
        if st == 404:
            # nginx may normalise the path away first: never a file.
            assert b'"FileNotFound"' in data or b'"NotFound"' in data, data
    st, doc, _ = call(s, 'POST', '/sessions/%s/move' % sid,
                      {'from': '../etc/passwd', 'to': 'x'})
    assert st == 400, doc
    st, doc, _ = call(s, 'POST', '/sessions/%s/move' % sid,
                      {'from': '/etc/passwd', 'to': 'x'})
    assert st == 400, doc
    delete(s, sid)


def test_session_symlinks_are_never_followed(s):
    other = create(s)
    cell(s, other, 'open("other-secret.txt", "w").write("OTHER")')
    sid = create(s)
    rd = s.config['runtime_dir']
    cell(s, sid, 'import os\n'
         'os.symlink("/etc/passwd", "host")\n'
         'os.symlink("%s", "rt")\n'
         'os.symlink("/proc/1/root/etc/shadow", "shadow")\n'
         'os.mkdir("d")\n'
         'os.symlink("/etc", "d/etc")\n' % rd)
    for path in ('host', 'rt', 'rt/session.key', 'shadow', 'd/etc/passwd'):
        st, _, data = _file(s, sid, path)
        assert st == 400 and b'symbolic link' in data, (path, st, data)
    st, _, data = _file(s, sid, 'host', 'PUT', b'overwrite')
    assert st == 400 and b'symbolic link' in data, data
    st, doc, _ = call(s, 'GET', '/sessions/%s/files' % sid)
    types = {f['path']: f['type'] for f in doc['files']}
    assert types['host'] == 'symlink' and types['d'] == 'dir', doc
    # The host's passwd is intact, and the other session's file unreachable.
    assert b'overwrite' not in open('/etc/passwd', 'rb').read()
    assert _file(s, sid, 'other-secret.txt')[0] == 404
    delete(s, sid)
    delete(s, other)


def test_session_display_and_matplotlib(s):
    sid = create(s)
    d = cell(s, sid, 'import matplotlib.pyplot as plt\n'
             'plt.plot([1, 2, 3], [3, 1, 2])\n'
             'plt.title("t")')
    assert len(d['display']) == 1, d
    png = base64.b64decode(d['display'][0]['data_base64'])
    assert d['display'][0]['mime_type'] == 'image/png'
    assert png.startswith(b'\x89PNG\r\n\x1a\n') and len(png) > 1000, png[:20]
    # Closed after the cell, like a notebook's inline backend.
    d = cell(s, sid, 'len(plt.get_fignums())')
    assert d['result'] == '0' and d['display'] == [], d
    d = cell(s, sid, 'from PIL import Image\n'
             'display(Image.new("RGB", (4, 4), "red"))\n'
             'class S:\n'
             '    def _repr_svg_(self):\n'
             '        return "<svg/>"\n'
             'display(S())')
    assert [x['mime_type'] for x in d['display']] == ['image/png', 'image/svg+xml'], d
    assert base64.b64decode(d['display'][1]['data_base64']) == b'<svg/>'
    # plt.show() is a notebook's: each figure shown, in order with
    # display(), and no figure file written as a one-shot run's show() does.
    d = cell(s, sid, 'plt.plot([1, 2])\nplt.show()\n'
             'display(Image.new("RGB", (2, 2), "blue"))\n'
             'plt.plot([2, 1])\nplt.show()\n'
             'import os\nsorted(os.listdir("."))')
    assert [x['mime_type'] for x in d['display']] == ['image/png'] * 3, d
    sizes = [Image_size(x) for x in d['display']]
    assert sizes[1] == (2, 2) and sizes[0] != (2, 2) and sizes[2] != (2, 2), \
        sizes
    assert 'figure_' not in d['result'], d['result']
    delete(s, sid)


def Image_size(disp):
    """(width, height) of a display's PNG, from its IHDR chunk."""
    import struct
    png = base64.b64decode(disp['data_base64'])
    return struct.unpack('>II', png[16:24])
