"""Issue 10, items 5 and 6: errors found when compiling the code, and
messages cut to length.

Syntax errors of the compile stage ('return' outside a function, misplaced
global and nonlocal, duplicate arguments) are syntax errors like any
other: 400 SyntaxError with the user's line, and nothing of the code runs.
Every message cut to length is cut between two characters, so the reply
is always valid UTF-8 JSON.
"""
import json

from helpers import err


def _raw(s, payload):
    st, _, body = s.request('POST', '/execute', json.dumps(payload).encode(),
                            {'Content-Type': 'application/json'})
    text = body.decode('utf-8')     # strict: raises on invalid UTF-8
    return st, json.loads(text)


def test_compile_stage_errors_are_syntax_errors(s):
    cases = [
        ('print("ran")\nx = 1\nreturn x\n', 3, "'return' outside function"),
        ('print("ran")\nnonlocal y\n', 2, 'nonlocal'),
        ('print("ran")\ndef f(a):\n    global a\n', 3, 'global'),
        ('print("ran")\ndef f(a, a):\n    pass\n', 2, 'duplicate argument'),
        ('print("ran")\nyield 1\n', 2, "'yield' outside function"),
    ]
    for code, line, text in cases:
        for extra in ({}, {'api_key': s.admin_key}):
            doc = err(s.execute(dict(code=code, **extra)), 400, 'SyntaxError')
            ed = doc['error_details']
            assert ed['line'] == line, (code, doc)
            assert text in ed['message'], (code, doc)
            assert 'execution_details' not in doc, (code, doc)
            assert 'pyexec' not in json.dumps(doc), (code, doc)


def test_forbidden_list_not_cut(s):
    # The message names every module in full, however long (issue 17).
    name = 'a' + '\u00e9' * 200           # 401 bytes of UTF-8
    st, doc = _raw(s, {'code': 'import %s\n' % name})
    assert st == 400 and \
        doc['error_details']['type'] == 'ForbiddenImportError', doc
    assert doc['error_details']['disallowed'] == [name], doc
    msg = doc['error_details']['message']
    assert msg == 'Import of disallowed module(s): %s.' % name, msg


def test_forbidden_message_names_hundreds_of_modules(s):
    names = ['m%03d_abcdef' % i for i in range(150)]
    code = 'import ' + ', '.join(names)
    assert len(code) < 2000
    doc = err(s.execute({'code': code}), 400, 'ForbiddenImportError')
    ed = doc['error_details']
    assert ed['disallowed'] == names, doc
    assert ed['message'] == ('Import of disallowed module(s): ' +
                             ', '.join(names) + '.'), ed['message']


def test_forbidden_message_lists_every_module(s):
    doc = err(s.execute({'code': 'import subprocess, os, socket'}), 400,
              'ForbiddenImportError')
    ed = doc['error_details']
    assert ed['disallowed'] == ['os', 'socket', 'subprocess'], doc
    assert ed['message'] == ('Import of disallowed module(s): os, socket, '
                             'subprocess.'), doc


def test_syntax_message_cut_between_characters(s):
    name = 'a' + '\u00e9' * 200
    st, doc = _raw(s, {'code': 'def f(%s, %s):\n    pass\n' % (name, name),
                       'api_key': s.admin_key})
    assert st == 400 and doc['error_details']['type'] == 'SyntaxError', doc
    assert 'duplicate argument' in doc['error_details']['message'], doc
