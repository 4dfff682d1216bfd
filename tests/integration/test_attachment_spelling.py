"""Attachments accept both spellings of their content: content_base_64
(the original contract) and content_base64 (as replies spell it); both at
once is a 400 ValidationError."""
from helpers import b64, unb64, ok, err

CODE = 'open("o.txt", "w").write(open("a.txt").read() + open("b.txt").read())'


def test_both_spellings_accepted(s):
    d = ok(s.execute({'code': CODE, 'return_files': ['o.txt'],
                      'attachments': [
                          {'filename': 'a.txt', 'content_base64': b64('one,')},
                          {'filename': 'b.txt', 'content_base_64': b64('two')}]}))
    assert unb64(d['output_files']['o.txt']['content_base64']) == b'one,two'


def test_reply_spelling_alone(s):
    d = ok(s.execute({'code': 'print(open("x.bin", "rb").read().hex())',
                      'attachments': [{'filename': 'x.bin',
                                       'content_base64': b64(b'\x00\xff')}]}))
    assert d['stdout'] == '00ff\n'


def test_both_at_once_refused(s):
    doc = err(s.execute({'code': 'pass', 'attachments': [
        {'filename': 'a.txt', 'content_base64': b64('x'),
         'content_base_64': b64('x')}]}), 400, 'ValidationError')
    msg = doc['error_details']['message']
    assert 'content_base64' in msg and 'content_base_64' in msg, msg


def test_bad_base64_names_the_spelling_used(s):
    doc = err(s.execute({'code': 'pass', 'attachments': [
        {'filename': 'a.txt', 'content_base64': 'Zg='}]}), 400, 'ValidationError')
    assert 'content_base64' in doc['error_details']['message'], doc
