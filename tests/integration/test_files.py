"""Attachments in, files out: nesting, errors per file, symlinks."""
from helpers import b64, unb64, ok


def test_nested_attachment_and_return(s):
    code = ('import os\nos.makedirs("out/deep", exist_ok=True)\n'
            'open("out/deep/r.txt", "w").write(open("in/data/a.txt").read() * 2)\n')
    d = ok(s.execute({'code': code, 'api_key': s.admin_key,
                      'attachments': [{'filename': 'in/data/a.txt', 'content_base_64': b64('ab')}],
                      'return_files': ['out/deep/r.txt']}))
    assert unb64(d['output_files']['out/deep/r.txt']['content_base64']) == b'abab'


def test_binary_roundtrip(s):
    data = bytes(range(256)) * 64
    d = ok(s.execute({'code': 'open("o.bin", "wb").write(open("i.bin", "rb").read()[::-1])',
                      'attachments': [{'filename': 'i.bin', 'content_base_64': b64(data)}],
                      'return_files': ['o.bin']}))
    assert unb64(d['output_files']['o.bin']['content_base64']) == data[::-1]


def test_missing_return_file(s):
    d = ok(s.execute({'code': 'pass', 'return_files': ['nothere.txt']}))
    assert d['output_files'] == {'nothere.txt': {'error': 'File not found after execution.'}}


def test_return_files_on_failure(s):
    d = ok(s.execute({'code': 'open("partial.txt", "w").write("p")\nraise SystemExit(2)',
                      'return_files': ['partial.txt']}))
    assert d['exit_code'] == 2
    assert unb64(d['output_files']['partial.txt']['content_base64']) == b'p'


def test_directory_not_returned(s):
    d = ok(s.execute({'code': 'import os\nos.mkdir("d")', 'api_key': s.admin_key,
                      'return_files': ['d']}))
    assert d['output_files']['d'] == {'error': 'Not a regular file.'}


def test_symlink_to_host_file_not_followed(s):
    code = 'import os\nos.symlink("/etc/passwd", "link")\nos.symlink("/usr", "dir")\n'
    d = ok(s.execute({'code': code, 'api_key': s.admin_key,
                      'return_files': ['link', 'dir/bin/python3']}))
    assert d['output_files']['link'] == {'error': 'Symbolic links are not returned.'}
    assert 'content_base64' not in d['output_files']['dir/bin/python3']


def test_returned_file_too_large(s):
    code = 'open("big", "wb").write(b"x" * (8 * 1024 * 1024 + 1))'
    d = ok(s.execute({'code': code, 'return_files': ['big']}))
    assert d['output_files']['big'] == {'error': 'File is too large to return.',
                                        'size_bytes': 8 * 1024 * 1024 + 1}


def test_attachment_visible_in_cwd(s):
    d = ok(s.execute({'code': 'import os\nprint(sorted(os.listdir(".")), os.getcwd())',
                      'api_key': s.admin_key,
                      'attachments': [{'filename': 'x.txt', 'content_base_64': ''}]}))
    assert d['stdout'] == "['script.py', 'x.txt'] /work\n", d['stdout']


def test_tmp_is_writable(s):
    d = ok(s.execute({'code': 'import tempfile\nwith tempfile.TemporaryFile() as f:\n'
                              '    f.write(b"x" * 1000)\n    f.seek(0)\n    print(len(f.read()))',
                      'api_key': s.admin_key}))
    assert d['stdout'] == '1000\n'
