"""Every error type of the contract, each a clear JSON answer."""
import json

from helpers import b64, err, ok


def test_missing_code(s):
    err(s.execute({'stdin_data': 'x'}), 400, 'InvalidRequest')
    err(s.execute({'code': None}), 400, 'InvalidRequest')


def test_bad_json(s):
    for raw in (b'{', b'{"code": "print(1)",}', b'not json', b'{"code": "x"} trailing',
                b'\xff\xfe', b'{"code": "\xff"}', b'', b'{"code": "a\x00"}'):
        doc = err(s.execute(None, raw=raw), 400, 'ValidationError')
        assert doc['error_details']['message']


def test_wrong_types(s):
    for payload in ([1, 2], 'code', 42, {'code': 1}, {'code': ['print(1)']},
                    {'code': 'x', 'stdin_data': 5},
                    {'code': 'x', 'attachments': 'a.txt'},
                    {'code': 'x', 'attachments': ['a.txt']},
                    {'code': 'x', 'attachments': [{'filename': 'a', 'content_base_64': 5}]},
                    {'code': 'x', 'attachments': [{'filename': 5, 'content_base_64': ''}]},
                    {'code': 'x', 'attachments': [{'filename': 'a'}]},
                    {'code': 'x', 'attachments': [{'filename': 'a', 'content_base_64': '', 'x': 1}]},
                    {'code': 'x', 'return_files': 'result.txt'},
                    {'code': 'x', 'return_files': [1]},
                    {'code': 'x', 'api_key': 5}):
        err(s.execute(payload), 400, 'ValidationError')


def test_unknown_field(s):
    doc = err(s.execute({'code': 'print(1)', 'timeout': 100}), 400, 'ValidationError')
    assert 'timeout' in doc['error_details']['message']


def test_code_too_long(s):
    err(s.execute({'code': '#' * 2001}), 400, 'ValidationError')
    ok(s.execute({'code': '#' * 2000}))
    # counted in code points: 2000 two-byte characters are fine
    ok(s.execute({'code': '#' + 'é' * 1999}))
    err(s.execute({'code': '#' + 'é' * 2000}), 400, 'ValidationError')


def test_code_limit_applies_to_admin(s):
    err(s.execute({'code': '#' * 2001, 'api_key': s.admin_key}), 400, 'ValidationError')


def test_too_many_attachments(s):
    atts = [{'filename': 'f%d' % i, 'content_base_64': ''} for i in range(3)]
    err(s.execute({'code': 'x', 'attachments': atts}), 400, 'ValidationError')


def test_attachment_too_large(s):
    big = b64(b'\0' * (8 * 1024 * 1024 + 1))
    err(s.execute({'code': 'x', 'attachments': [{'filename': 'a', 'content_base_64': big}]}),
        400, 'ValidationError')


def test_attachment_max_size_ok(s):
    data = bytes(range(256)) * (8 * 1024 * 4)  # exactly 8 MiB
    d = ok(s.execute({'code': 'import os\nprint(os.path.getsize("a.bin"))',
                      'attachments': [{'filename': 'a.bin', 'content_base_64': b64(data)}],
                      'api_key': s.admin_key}))
    assert d['stdout'] == '8388608\n'


def test_bad_base64(s):
    for bad in ('aGV sbG8h', 'aGVsbG8h***', 'QR==', 'aGVsbG8', '====', 'aGVsbG8h=',
                'YQ==YQ=='):
        err(s.execute({'code': 'x', 'attachments': [{'filename': 'a', 'content_base_64': bad}]}),
            400, 'ValidationError')


def test_base64_line_breaks_tolerated(s):
    text = b'0123456789' * 20
    enc = b64(text)
    wrapped = '\r\n'.join(enc[i:i + 76] for i in range(0, len(enc), 76)) + '\n'
    d = ok(s.execute({'code': 'print(open("a").read())',
                      'attachments': [{'filename': 'a', 'content_base_64': wrapped}]}))
    assert d['stdout'] == text.decode() + '\n'


def test_bad_names(s):
    for name in ('', '/etc/passwd', '../x', 'a/../b', 'a/..', './a', 'a//b', 'a/',
                 'a\nb', 'a\x00b', 'x' * 256, '/'.join(['d'] * 17), 'script.py'):
        err(s.execute({'code': 'x', 'attachments': [{'filename': name, 'content_base_64': ''}]}),
            400, 'ValidationError')
        # 'a/' asks for a directory's files in return_files (test_run_files)
        if name not in ('script.py', 'a/'):
            err(s.execute({'code': 'x', 'return_files': [name]}), 400, 'ValidationError')
    for name in ('a//', '../', './', '//', 'a/../'):
        err(s.execute({'code': 'x', 'return_files': [name]}), 400, 'ValidationError')


def test_duplicate_names(s):
    err(s.execute({'code': 'x', 'attachments': [{'filename': 'a', 'content_base_64': ''},
                                                {'filename': 'a', 'content_base_64': ''}]}),
        400, 'ValidationError')
    err(s.execute({'code': 'x', 'attachments': [{'filename': 'a', 'content_base_64': ''},
                                                {'filename': 'a/b', 'content_base_64': ''}]}),
        400, 'ValidationError')
    err(s.execute({'code': 'x', 'return_files': ['r', 'r']}), 400, 'ValidationError')


def test_too_many_return_files(s):
    err(s.execute({'code': 'x', 'return_files': ['f%d' % i for i in range(11)]}),
        400, 'ValidationError')


def test_stdin_too_large(s):
    err(s.execute({'code': 'x', 'stdin_data': 'x' * (1024 * 1024 + 1)}), 400, 'ValidationError')


def test_not_found_and_method(s):
    st, h, body = s.request('GET', '/nope')
    doc = json.loads(body)
    assert st == 404 and doc['error_details']['type'] == 'NotFound'
    for m in ('GET', 'PUT', 'DELETE'):
        st, h, body = s.request(m, '/execute')
        assert st == 405 and json.loads(body)['error_details']['type'] == 'MethodNotAllowed'
        assert h['allow'] == 'POST'


def test_content_type(s):
    st, doc, _ = s.execute(None, raw=b'{"code":"print(1)"}',
                           headers={'Content-Type': 'text/plain'})
    assert st == 415 and doc['error_details']['type'] == 'UnsupportedMediaType'
    ok(s.execute(None, raw=b'{"code":"print(1)"}',
                 headers={'Content-Type': 'application/json; charset=utf-8'}))


def test_body_too_large_is_json_413(s):
    st, hdrs, body = s.request('POST', '/execute', body=b'x' * (60 * 1024 * 1024),
                               headers={'Content-Type': 'application/json'})
    assert st == 413, st
    doc = json.loads(body)
    assert doc['error_details']['type'] == 'PayloadTooLarge'


def test_deep_json(s):
    err(s.execute(None, raw=b'{"code": "x", "a": ' + b'[' * 5000 + b']' * 5000 + b'}'),
        400, 'ValidationError')


def test_empty_attachment_allowed(s):
    d = ok(s.execute({'code': 'import os\nprint(os.path.getsize("e"))',
                      'attachments': [{'filename': 'e', 'content_base_64': ''}],
                      'api_key': s.admin_key}))
    assert d['stdout'] == '0\n'


def test_max_attachment_php_escaped_and_wrapped(s):
    # The largest attachment, its base64 all "/" (bytes 0xff), sent as PHP's
    # json_encode does ("\/") and wrapped at 64 columns with CRLF: valid,
    # so it must not meet nginx's body limit.
    import base64, json as _json
    data = b'\xff' * (8 * 1024 * 1024)
    enc = base64.b64encode(data).decode()
    lines = [enc[i:i + 64] for i in range(0, len(enc), 64)]
    wrapped = '\\r\\n'.join(l.replace('/', '\\/') for l in lines)
    body = ('{"code": "import os\\nprint(os.path.getsize(\\"a\\"))", '
            '"api_key": %s, "attachments": [{"filename": "a", '
            '"content_base_64": "%s"}]}' % (_json.dumps(s.admin_key), wrapped))
    d = ok(s.execute(None, raw=body.encode()))
    assert d['stdout'] == '8388608\n', d
