"""The /execute response contract: fields, types, exit codes, output."""
import json

from helpers import b64, unb64, ok, err


def test_success_shape(s):
    st, doc, hdrs = s.execute({'code': 'print("x")'})
    assert st == 200
    assert hdrs['content-type'] == 'application/json'
    assert set(doc) >= {'status', 'timestamp_utc', 'request_context', 'execution_details'}
    d = doc['execution_details']
    for k, t in (('success', bool), ('stdout', str), ('stderr', str),
                 ('exit_code', int), ('execution_duration_sec', float),
                 ('output_files', dict), ('termination', str),
                 ('stdout_truncated', bool), ('stderr_truncated', bool)):
        assert isinstance(d[k], t), (k, d[k])
    assert 0 < d['execution_duration_sec'] < 10
    rc = doc['request_context']
    assert rc == {'code_length': 10, 'attachment_count': 0,
                  'stdin_provided': False, 'processed_attachments': [],
                  'limits': {'time_limit_seconds': 10, 'memory_limit_mb': 512,
                             'max_output_bytes': 1048576,
                             'max_processes': 10}}, rc


def test_nonzero_exit_is_200(s):
    d = ok(s.execute({'code': 'import sys\nprint("before")\nsys.exit(3)'}))
    assert d['success'] is False and d['exit_code'] == 3
    assert d['stdout'] == 'before\n'
    assert d['termination'] == 'exited'


def test_exception_traceback(s):
    d = ok(s.execute({'code': 'x = 1\ny = x / 0\n'}))
    assert d['exit_code'] == 1 and d['success'] is False
    assert 'ZeroDivisionError' in d['stderr']
    assert 'File "script.py", line 2' in d['stderr'], d['stderr']
    assert '<string>' not in d['stderr'], d['stderr']


def test_main_semantics(s):
    code = ('import sys\nprint(__name__, __file__, sys.argv)\n'
            'print(sorted(k for k in globals() if not k.startswith("__")))')
    d = ok(s.execute({'code': code}))
    assert d['stdout'] == "__main__ script.py ['script.py']\n['sys']\n", d['stdout']


def test_code_length_counts_code_points(s):
    code = 'print("é😀")'
    st, doc, _ = s.execute({'code': code})
    assert doc['request_context']['code_length'] == 11
    assert doc['execution_details']['stdout'] == 'é😀\n'


def test_signal_death_reported(s):
    d = ok(s.execute({'code': 'import os, signal\nos.kill(os.getpid(), signal.SIGKILL)',
                      'api_key': s.admin_key}))
    assert d['termination'] == 'signaled' and d['signal'] == 9, d
    assert d['exit_code'] is None and d['success'] is False


def test_stdout_stderr_separate(s):
    d = ok(s.execute({'code': 'import sys\nprint("out")\nprint("err", file=sys.stderr)'}))
    assert d['stdout'] == 'out\n' and d['stderr'] == 'err\n'


def test_invalid_utf8_output_is_valid_json(s):
    d = ok(s.execute({'code': 'import sys\nsys.stdout.buffer.write(b"ok\\xff\\xfe\\x00end")'}))
    assert d['stdout'] == 'ok\ufffd\ufffd\x00end', repr(d['stdout'])
    assert unb64(d['stdout_base64']) == b'ok\xff\xfe\x00end'


# Output is written into the reply straight from the run's buffer,
# escaped as it goes (src/http/fcgi.c, put_text), through FastCGI records
# of 64 KiB, in one write or streamed by a child for a large reply: every
# byte value, escapes that straddle a record's end, and a script that
# spells the reply's placeholders, at each size.
OUTPUT_MIX = r'''
import random, sys
rnd = random.Random(SEED)
units = [b'a', b' ', b'"', b'\\', b'\n', b'\r', b'\t', b'\x00', b'\x01',
         b'\x1f', b'\x7f', b'/', b'\xc3\xa9', b'\xe2\x82\xac',
         b'\xf0\x9f\x98\x80', b'\xff', b'\x80',
         b'pyexec-part-0123456789abcdef0123456789abcdef-0.']
out = bytearray()
while len(out) < SIZE:
    out += rnd.choice(units)
sys.stdout.buffer.write(out)
sys.stderr.buffer.write(bytes(reversed(out)))
'''


def _per_byte_replace(data):
    """What the reply's text of output is: each byte that is not part of
    a well-formed UTF-8 sequence becomes U+FFFD (Python's own 'replace'
    takes some runs of such bytes as one)."""
    out, i = [], 0
    while i < len(data):
        c = data[i]
        n = 1 if c < 0x80 else 2 if 0xc2 <= c <= 0xdf else \
            3 if 0xe0 <= c <= 0xef else 4 if 0xf0 <= c <= 0xf4 else 0
        try:
            out.append(data[i:i + n].decode('utf-8') if n else None)
        except UnicodeDecodeError:
            out.append(None)
        if out[-1] is None or len(out[-1]) != 1:
            out[-1] = '\ufffd'
            n = 1
        i += n
    return ''.join(out)


def test_output_bytes_exact_at_every_reply_size(s):
    spelled = 0
    for seed, size in ((1, 1000), (2, 70000), (3, 300000), (4, 700000)):
        code = OUTPUT_MIX.replace('SEED', str(seed)).replace(
            'SIZE', str(size))
        d = ok(s.execute({'code': code, 'api_key': s.admin_key},
                         timeout=120))
        raw_out = unb64(d['stdout_base64'])
        raw_err = unb64(d['stderr_base64'])
        assert len(raw_out) >= size and raw_err == raw_out[::-1], size
        assert d['stdout'] == _per_byte_replace(raw_out), size
        assert d['stderr'] == _per_byte_replace(raw_err), size
        assert not d['stdout_truncated'] and not d['stderr_truncated']
        spelled += raw_out.count(b'pyexec-part-')
    assert spelled > 0


def test_large_stdin_roundtrip(s):
    data = 'line %d\n' * 1 % 0
    data = ''.join('line %d\n' % i for i in range(20000))
    d = ok(s.execute({'code': 'import sys\ndata = sys.stdin.read()\nprint(len(data))\n'
                              'sys.stdout.write(data)', 'stdin_data': data}))
    assert d['stdout'] == '%d\n%s' % (len(data), data)


def test_big_output_no_deadlock(s):
    # Writes far more than a pipe buffer to both streams before reading stdin.
    code = ('import sys\nsys.stdout.write("o" * 300000)\nsys.stderr.write("e" * 300000)\n'
            'print(len(sys.stdin.read()))')
    d = ok(s.execute({'code': code, 'stdin_data': 'x' * 200000}))
    assert d['stdout'] == 'o' * 300000 + '200000\n'
    assert d['stderr'] == 'e' * 300000


def test_unicode_stdin(s):
    d = ok(s.execute({'code': 'print(input()[::-1])', 'stdin_data': 'héllo wörld'}))
    assert d['stdout'] == 'dlröw olléh\n'


def test_sys_allowed_for_public(s):
    d = ok(s.execute({'code': 'import sys\nprint(sys.version_info[0])'}))
    assert d['stdout'] == '3\n'


def test_forbidden_import_lists_all(s):
    doc = err(s.execute({'code': 'import os, subprocess\nfrom socket import socket\n'
                                 'import numpy.linalg\nimport os.path'}),
              400, 'ForbiddenImportError')
    assert doc['error_details']['disallowed'] == ['os', 'socket', 'subprocess'], doc


def test_forbidden_import_nested_and_relative(s):
    doc = err(s.execute({'code': 'def f():\n    import ctypes\n'}), 400,
              'ForbiddenImportError')
    assert doc['error_details']['disallowed'] == ['ctypes']
    # A relative import is not a module of the host: the policy skips it
    # and Python itself fails at run time.
    d = ok(s.execute({'code': 'try:\n    from . import x\nexcept ImportError as e:\n    print("no")'}))
    assert d['stdout'] == 'no\n'


def test_forbidden_import_read_off_the_bytecode(s):
    # The policy reads the compiled code, nested code objects included:
    # class bodies, methods, and a function with more than 256 names,
    # whose imports' name index needs EXTENDED_ARG; a relative import
    # there (level 1) is skipped.
    up = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'
    many = ','.join(a + b for a in up for b in up[:12])
    code = ('class K:\n    import pickle\n    def m(self):\n'
            '        from ssl import wrap_socket\n'
            'def g():\n    (' + many + ')\n'
            '    from .rel import q\n    import mmap.x as y\n')
    doc = err(s.execute({'code': code}), 400, 'ForbiddenImportError')
    assert doc['error_details']['disallowed'] == ['mmap', 'pickle', 'ssl'], doc
    # What the compiler drops as unreachable is not an import of the
    # script: it can never run.
    d = ok(s.execute({'code': 'if False:\n    import ctypes\nprint(1)'}))
    assert d['stdout'] == '1\n'


def test_admin_bypasses_import_policy_not_syntax(s):
    d = ok(s.execute({'code': 'import subprocess\nprint("ok")', 'api_key': s.admin_key}))
    assert d['stdout'] == 'ok\n'
    err(s.execute({'code': 'def (:', 'api_key': s.admin_key}), 400, 'SyntaxError')


def test_wrong_key_is_refused(s):
    # Not the original contract (a wrong key was a public caller): 401,
    # saying only that the key is not valid (README, "Using the API").
    doc = err(s.execute({'code': 'import os', 'api_key': s.admin_key[:-1] + 'x'}),
              401, 'InvalidApiKey')
    assert s.admin_key[:-1] not in json.dumps(doc)


def test_syntax_error_details(s):
    doc = err(s.execute({'code': 'x = 1\nif x\n  print(x)'}), 400, 'SyntaxError')
    assert doc['error_details']['line'] == 2, doc
    assert 'execution_details' not in doc


def test_null_bytes_in_code(s):
    err(s.execute({'code': 'print(1)\x00'}), 400, 'SyntaxError')


def test_empty_code_runs(s):
    d = ok(s.execute({'code': ''}))
    assert d['stdout'] == '' and d['exit_code'] == 0


def test_healthz(s):
    st, h, body = s.request('GET', '/healthz')
    assert st == 200 and body == b'{"status":"ok"}\n'
    st, h, body = s.request('POST', '/healthz', body=b'{}')
    assert st == 405 and h['allow'] == 'GET, HEAD'


def test_fresh_randomness(s):
    outs = set()
    for _ in range(3):
        d = ok(s.execute({'code': 'import random\nprint(random.random())'}))
        outs.add(d['stdout'])
    assert len(outs) == 3, outs


def test_interrupted_wait_resumes(s):
    # SIGSTOP/SIGCONT during a timed futex wait makes the kernel resume it
    # with restart_syscall; the seccomp filter once refused that, and glibc
    # aborted ("The futex facility returned an unexpected error code").
    code = '''
import os, signal, threading, time
ev = threading.Event()
t = threading.Thread(target=ev.wait, args=(1.5,))
t.start()
time.sleep(0.1)
pid = os.fork()
if pid == 0:
    time.sleep(0.2)
    os.kill(os.getppid(), signal.SIGSTOP)
    time.sleep(0.2)
    os.kill(os.getppid(), signal.SIGCONT)
    os._exit(0)
os.waitpid(pid, 0)
t.join()
print("resumed")
'''
    d = ok(s.execute({'code': code, 'api_key': s.admin_key}))
    assert d['stdout'] == 'resumed\n' and d['exit_code'] == 0, d
