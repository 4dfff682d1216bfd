"""POST /evaluate, the grader (issue 12): a submission against many test
cases, each in a fresh jail, the expected values kept outside the jail and
compared by the worker."""
import json

from helpers import err

TIMEOUT = 240


def evaluate(s, payload, ip=None, admin=True, timeout=180):
    body = dict(payload)
    if admin:
        body['api_key'] = s.admin_key
    h = {'Content-Type': 'application/json'}
    if ip:
        h['X-Forwarded-For'] = ip
    st, hdrs, data = s.request('POST', '/evaluate', json.dumps(body).encode(),
                               h, timeout=timeout)
    try:
        doc = json.loads(data)
    except ValueError:
        doc = None
    return st, doc, hdrs


def graded(resp):
    st, doc, _ = resp
    assert st == 200, (st, doc)
    assert doc['status'] == 'success', doc
    assert doc['total'] == len(doc['case_results']) or not doc['passed'], doc
    return doc


def test_seed_readme_example(s):
    """Seed 001's README example: add, two io_cases."""
    doc = graded(evaluate(s, {
        'code': 'def add(a, b):\n    return a + b\n',
        'entry_point': 'add',
        'io_cases': [{'input': 'a=1, b=2', 'output': '3'},
                     {'input': 'a=-5, b=10', 'output': '5'}]}))
    assert doc['passed'] is True and doc['passed_count'] == 2, doc
    r = doc['case_results']
    assert [c['case'] for c in r] == [0, 1]
    assert r[0]['got'] == 3 and r[0]['expected'] == 3 and r[0]['error'] is None
    assert r[1]['got'] == 5


def test_keyword_and_positional_inputs(s):
    code = ('def f(xs, k=1, *, scale=1):\n'
            '    return [x * k * scale for x in xs]\n')
    doc = graded(evaluate(s, {
        'code': code, 'entry_point': 'f',
        'cases': [{'args': [[1, 2]], 'expected': [1, 2]},
                  {'args': [[1, 2], 3], 'expected': [3, 6]},
                  {'args': [[1]], 'kwargs': {'k': 2, 'scale': 5},
                   'expected': [10]},
                  {'args': [[1]], 'expected': [2]}]}))
    assert [c['passed'] for c in doc['case_results']] == [True, True, True,
                                                          False], doc
    assert doc['passed'] is False and doc['passed_count'] == 3
    # io_cases: one literal is one positional argument
    doc = graded(evaluate(s, {
        'code': 'def total(xs):\n    return sum(xs)\n', 'entry_point': 'total',
        'io_cases': [{'input': '[1, 2, 3]', 'output': '6'},
                     {'input': '(4, 5)', 'output': '9'},
                     {'input': 'xs={1, 2}', 'output': '3'}]}))
    assert doc['passed'], doc


def test_class_entry_points(s):
    code = ('class Solution:\n'
            '    def twice(self, x):\n        return 2 * x\n'
            '    @staticmethod\n    def neg(x):\n        return -x\n')
    doc = graded(evaluate(s, {'code': code, 'entry_point': 'Solution().twice',
                              'cases': [{'args': [4], 'expected': 8}]}))
    assert doc['passed'], doc
    doc = graded(evaluate(s, {'code': code, 'entry_point': 'Solution.neg',
                              'cases': [{'args': [4], 'expected': -4}]}))
    assert doc['passed'], doc
    doc = graded(evaluate(s, {'code': code, 'entry_point': 'Missing().x',
                              'cases': [{'args': [4], 'expected': -4}]}))
    e = doc['case_results'][0]['error']
    assert e['type'] == 'NameError' and 'Missing' in e['message'], doc


def results(doc):
    return doc['case_results']


def test_comparators_function_mode(s):
    code = ('def f(kind):\n'
            '    if kind == "float":\n'
            '        return [[0.1 + 0.2, 1.0000001], {"k": [2.0 / 3]}]\n'
            '    if kind == "bag":\n'
            '        return [3, 1, 2, 1]\n'
            '    if kind == "mixed":\n'
            '        return (1, {2, 3}, 10 ** 30, None, "\\u00e9\\n")\n')
    # exact (the default): 0.1 + 0.2 is not 0.3
    exp_float = [[0.3, 1.0], {'k': [0.6666666]}]
    doc = graded(evaluate(s, {'code': code, 'entry_point': 'f',
                              'cases': [{'args': ['float'],
                                         'expected': exp_float}]}))
    assert not doc['passed'], doc
    # float: tolerance applies inside nested lists and dicts
    for cmp, want in (({'type': 'float', 'rel_tol': 1e-6}, True),
                      ({'type': 'float', 'rel_tol': 1e-12}, False),
                      ({'type': 'float', 'abs_tol': 1e-6}, True)):
        doc = graded(evaluate(s, {'code': code, 'entry_point': 'f',
                                  'comparator': cmp,
                                  'cases': [{'args': ['float'],
                                             'expected': exp_float}]}))
        assert doc['passed'] is want, (cmp, doc)
    # unordered: lists as multisets
    doc = graded(evaluate(s, {'code': code, 'entry_point': 'f',
                              'comparator': {'type': 'unordered'},
                              'cases': [{'args': ['bag'],
                                         'expected': [1, 1, 2, 3]},
                                        {'args': ['bag'],
                                         'expected': [1, 2, 3]}]}))
    assert [c['passed'] for c in results(doc)] == [True, False], doc
    doc = graded(evaluate(s, {'code': code, 'entry_point': 'f',
                              'cases': [{'args': ['bag'],
                                         'expected': [1, 1, 2, 3]}]}))
    assert not doc['passed'], 'exact compares order'
    # tuples, sets, big ints, None and strings cross as plain data; io_cases
    # compare them as Python literals (a tuple is not a list there)
    doc = graded(evaluate(s, {'code': code, 'entry_point': 'f', 'io_cases': [
        {'input': '"mixed"',
         'output': "(1, {3, 2}, 1000000000000000000000000000000, None, "
                   "'\\xe9\\n')"},
        {'input': '"mixed"',
         'output': "[1, {3, 2}, 1000000000000000000000000000000, None, "
                   "'\\xe9\\n']"}]}))
    assert [c['passed'] for c in results(doc)] == [True, False], doc
    assert results(doc)[0]['got'][2] == 10 ** 30, doc


def test_rigged_eq_and_unsupported_types(s):
    code = ('class Always:\n'
            '    def __eq__(self, other):\n        return True\n'
            'class Int(int):\n'
            '    def __eq__(self, other):\n        return True\n'
            '    __hash__ = int.__hash__\n'
            'def f(k):\n'
            '    if k == 0: return Always()\n'
            '    if k == 1: return Int(7)\n'
            '    if k == 2: return [1, Int(2)]\n'
            '    if k == 3: return (x for x in range(3))\n'
            '    if k == 4: return 1j\n')
    doc = graded(evaluate(s, {'code': code, 'entry_point': 'f',
                              'cases': [{'args': [k], 'expected': 7}
                                        for k in range(5)]}))
    assert doc['passed_count'] == 0, doc
    names = ['Always', 'Int', 'Int', 'generator', 'complex']
    for c, name in zip(results(doc), names):
        assert not c['passed'] and c['got'] is None, c
        assert c['error']['type'] == 'UnsupportedType', c
        assert name in c['error']['message'], (name, c)


def test_expected_output_is_nowhere_in_the_jail(s):
    """A submission that reads every file it can see (and the memory of
    every process it can see, its environment and arguments) looking for
    the expected value finds nothing: expected values never enter a jail.
    The marker is given to it in two halves and never joined in the jail,
    so only a copy of the expected value could match."""
    head, tail = 'EXPECTED-7f3a', '9c2e41d8b6-MARK'
    marker = head + tail
    code = (
        'import os, sys\n'
        'def found(data, a, b):\n'
        '    i = data.find(a)\n'
        '    while i >= 0:\n'
        '        if data.startswith(b, i + len(a)):\n'
        '            return True\n'
        '        i = data.find(a, i + 1)\n'
        '    return False\n'
        'def find(a, b):\n'
        '    a, b = a.encode(), b.encode()\n'
        '    hits = []\n'
        '    if found(repr(sys.argv).encode(), a, b) or found(repr(dict(os.environ)).encode(), a, b):\n'
        '        hits.append("argv/env")\n'
        '    for root, dirs, files in os.walk("/", followlinks=False):\n'
        '        # /usr is the host\'s, read-only (and long to read here)\n'
        '        if root == "/":\n'
        '            dirs[:] = [d for d in dirs if d != "usr"]\n'
        '        if root.startswith("/proc"):\n'
        '            dirs[:] = []\n'
        '        for n in files:\n'
        '            p = os.path.join(root, n)\n'
        '            try:\n'
        '                with open(p, "rb") as fh:\n'
        '                    if found(fh.read(1 << 22), a, b):\n'
        '                        hits.append(p)\n'
        '            except Exception:\n'
        '                pass\n'
        '    for pid in [d for d in os.listdir("/proc") if d.isdigit()]:\n'
        '        for n in ("environ", "cmdline"):\n'
        '            try:\n'
        '                with open("/proc/%s/%s" % (pid, n), "rb") as fh:\n'
        '                    if found(fh.read(), a, b):\n'
        '                        hits.append(pid + " " + n)\n'
        '            except Exception:\n'
        '                pass\n'
        '        try:\n'
        '            with open("/proc/%s/maps" % pid) as mp, open("/proc/%s/mem" % pid, "rb") as mem:\n'
        '                for line in mp:\n'
        '                    lo, hi = [int(x, 16) for x in line.split()[0].split("-")]\n'
        '                    if "r" not in line.split()[1] or hi - lo > 1 << 28:\n'
        '                        continue\n'
        '                    try:\n'
        '                        mem.seek(lo)\n'
        '                        if found(mem.read(hi - lo), a, b):\n'
        '                            hits.append(pid + " memory " + line.split()[-1])\n'
        '                    except Exception:\n'
        '                        pass\n'
        '        except Exception:\n'
        '            pass\n'
        '    return hits\n')
    doc = graded(evaluate(s, {'code': code, 'entry_point': 'find',
                              'time_limit_per_case_seconds': 10,
                              'cases': [{'args': [head, tail],
                                         'expected': [marker, marker]}]}))
    c = results(doc)[0]
    assert c['error'] is None, c
    assert c['got'] == [], 'the expected value was found in the jail: %r' % c
    assert not c['passed']
    # the search works: a marker that is in the jail (its own code) is found
    doc = graded(evaluate(s, {'code': code + '# ' + marker + '\n',
                              'entry_point': 'find',
                              'time_limit_per_case_seconds': 10,
                              'cases': [{'args': [head, tail],
                                         'expected': []}]}))
    assert '/work/script.py' in results(doc)[0]['got'], results(doc)


def test_no_state_carries_over(s):
    """Globals, module state, files and processes of one case are not seen
    by any other; module-level code runs in every case's jail."""
    code = (
        'import os, subprocess\n'
        'LOADS = [1]\n'
        'counter = 0\n'
        'def f(i):\n'
        '    global counter\n'
        '    counter += 1\n'
        '    seen = []\n'
        '    for p in ("/work/mark.txt", "/tmp/mark.txt"):\n'
        '        if os.path.exists(p):\n'
        '            seen.append(p)\n'
        '        with open(p, "w") as fh:\n'
        '            fh.write(str(i))\n'
        '    procs = [d for d in os.listdir("/proc") if d.isdigit()]\n'
        '    subprocess.Popen(["/usr/bin/python3", "-c", "import time; time.sleep(60)"],\n'
        '                     start_new_session=True)\n'
        '    return [counter, len(LOADS), seen, len(procs)]\n')
    n = 12        # more cases than run slots: lanes run several each
    doc = graded(evaluate(s, {'code': code, 'entry_point': 'f',
                              'cases': [{'args': [i],
                                         'expected': [1, 1, [], 2]}
                                        for i in range(n)]}))
    assert doc['passed'], [c['got'] for c in results(doc)]


def test_one_bad_case_fails_alone(s):
    code = ('import os, signal, time\n'
            'def f(k):\n'
            '    if k == "loop":\n        while True: pass\n'
            '    if k == "sleep":\n        time.sleep(60)\n'
            '    if k == "crash":\n        os.kill(os.getpid(), signal.SIGSEGV)\n'
            '    if k == "exit":\n        os._exit(3)\n'
            '    if k == "memory":\n'
            '        x = bytearray(1 << 40)\n'
            '    if k == "raise":\n        return 1 // 0\n'
            '    return k\n')
    kinds = ['ok', 'loop', 'ok', 'sleep', 'crash', 'ok', 'exit', 'memory',
             'raise', 'ok']
    doc = graded(evaluate(s, {'code': code, 'entry_point': 'f',
                              'time_limit_per_case_seconds': 3,
                              'cases': [{'args': [k], 'expected': 'ok'}
                                        for k in kinds]}, timeout=240))
    r = results(doc)
    assert len(r) == len(kinds), doc
    assert [c['passed'] for c in r] == [k == 'ok' for k in kinds], \
        [(c['passed'], c['error']) for c in r]
    by = dict(zip(kinds, r))
    assert by['loop']['error']['type'] == 'TimeoutError', by['loop']
    assert by['loop']['termination'] in ('timeout', 'cpu_limit')
    assert by['sleep']['termination'] == 'timeout', by['sleep']
    assert by['crash']['termination'] == 'signaled', by['crash']
    assert by['crash']['error']['type'] == 'Crashed', by['crash']
    assert by['exit']['error']['type'] == 'NoResult', by['exit']
    assert by['memory']['error']['type'] == 'MemoryError', by['memory']
    e = by['raise']['error']
    assert e['type'] == 'ZeroDivisionError', e
    # the submission's frames only: its line, no server or harness paths
    assert 'File "script.py", line 14, in f' in e['traceback'], e
    for bad in ('/usr/lib', 'boot', '<string>', '/run/', 'pyexec'):
        assert bad not in e['traceback'], (bad, e)


def test_module_level_error_and_syntax(s):
    doc = graded(evaluate(s, {'code': 'x = 1\nraise ValueError("at import")\n'
                                      'def f():\n    return 1\n',
                              'entry_point': 'f',
                              'cases': [{'expected': 1}, {'expected': 1}]}))
    for c in results(doc):
        assert c['error']['type'] == 'ValueError', c
        assert 'line 2, in <module>' in c['error']['traceback'], c
        assert c['error']['message'] == 'at import'
    st, d, h = evaluate(s, {'code': 'def f(:\n', 'entry_point': 'f',
                            'cases': [{'expected': 1}]})
    err((st, d, h), 400, 'SyntaxError')


def test_stop_on_first_failure(s):
    code = ('import time\n'
            'def f(i):\n'
            '    if i:\n        time.sleep(1)\n'
            '    return i\n')
    n = 16
    doc = graded(evaluate(s, {'code': code, 'entry_point': 'f',
                              'stop_on_first_failure': True,
                              'cases': [{'args': [i], 'expected': i if i else -1}
                                        for i in range(n)]}))
    r = results(doc)
    assert doc['total'] == n and doc['passed'] is False, doc
    assert r[0]['case'] == 0 and not r[0]['passed']
    assert len(r) < n, 'every case ran despite stop_on_first_failure'
    doc = graded(evaluate(s, {'code': code, 'entry_point': 'f',
                              'cases': [{'args': [0], 'expected': -1},
                                        {'args': [0], 'expected': 0}]}))
    assert len(results(doc)) == 2


def test_malformed_cases_name_the_case(s):
    base = {'code': 'def f(a=0, b=0):\n    return a\n', 'entry_point': 'f'}
    for extra, needle in (
            ({'io_cases': [{'input': 'a=1', 'output': '1'},
                           {'input': 'a=', 'output': '1'}]}, 'io_cases[1]'),
            ({'io_cases': [{'input': 'a=1', 'output': 'eval("1")'}]},
             'io_cases[0]'),
            ({'io_cases': [{'input': '__import__("os")', 'output': '1'}]},
             'io_cases[0]'),
            ({'io_cases': [{'input': 'a=1, a=2', 'output': '1'}]},
             'io_cases[0]'),
            ({'cases': [{'args': [1], 'expected': 1}, {'args': 1,
                                                       'expected': 1}]},
             'cases[1]'),
            ({'cases': [{'args': [1]}]}, 'cases[0]'),
            ({'cases': [{'expected': 1}, {'expected': 1}, 7]}, 'cases[2]'),
            ({'cases': [{'expected': 1, 'stdin': ''}]}, 'cases[0]'),
            ({'cases': []}, 'empty'),
            ({'cases': [{'expected': 1}], 'io_cases': []}, 'not both'),
            ({'cases': [{'expected': 1}], 'comparator': {'type': 'lines'}},
             'comparator'),
            ({'cases': [{'expected': 1}], 'entry_point': 'os.system("x")'},
             'entry_point'),
            ({'cases': [{'expected': 1}], 'stdin_data': 'x'}, 'stdin_data'),
            ({'cases': [{'expected': 1}], 'time_limit_per_case_seconds': 11},
             '10 (time_limit_seconds)'),
            ({'cases': [{'expected': 1}], 'time_limit_per_case_seconds': 0},
             'time_limit_seconds'),
            ({'cases': [{'expected': 1}] * 101}, 'max_cases is 100'),
            ({'cases': [{'expected': 1}], 'bogus': 1}, 'bogus')):
        body = dict(base, **extra)
        doc = err(evaluate(s, body), 400, 'ValidationError')
        assert needle in doc['error_details']['message'], (extra, doc)
    # an attachment may not take the case file's name
    doc = err(evaluate(s, dict(base, cases=[{'expected': 0}], attachments=[
        {'filename': '.pyexec-case', 'content_base_64': ''}])), 400,
        'ValidationError')


def test_max_cases_accepted(s):
    doc = graded(evaluate(s, {'code': 'def f(i):\n    return i * i\n',
                              'entry_point': 'f',
                              'cases': [{'args': [i], 'expected': i * i}
                                        for i in range(100)]}, timeout=300))
    assert doc['passed'] and doc['passed_count'] == 100, doc
    assert [c['case'] for c in results(doc)] == list(range(100))


def test_program_mode_comparators(s):
    code = ('import sys\n'
            'a, b = map(float, sys.stdin.read().split())\n'
            'print("%.7f  " % (a / b))\n'
            'print()\n')
    cases = [{'stdin': '1 3', 'expected_stdout': '0.3333333  \n\n'},
             {'stdin': '2 3', 'expected_stdout': '0.6666667\n'},
             {'stdin': '2 3', 'expected_stdout': '0.66666666'}]
    got = {}
    for cmp in ('exact', 'lines', 'tokens', 'tokens-tol'):
        c = ({'type': 'tokens', 'abs_tol': 1e-6} if cmp == 'tokens-tol'
             else {'type': cmp})
        doc = graded(evaluate(s, {'code': code, 'comparator': c,
                                  'cases': cases}))
        got[cmp] = [r['passed'] for r in results(doc)]
        assert results(doc)[0]['got'] == '0.3333333  \n\n'
    assert got == {'exact': [True, False, False],
                   'lines': [True, True, False],
                   'tokens': [True, True, False],
                   'tokens-tol': [True, True, True]}, got
    doc = graded(evaluate(s, {'code': 'import sys\nprint(input())\n'
                                      'sys.exit(int(input()))\n',
                              'cases': [{'stdin': 'a\n0\n',
                                         'expected_stdout': 'a\n'},
                                        {'stdin': 'a\n2\n',
                                         'expected_stdout': 'a\n'},
                                        {'stdin': 'a\n',
                                         'expected_stdout': 'a\n'}]}))
    r = results(doc)
    assert [c['passed'] for c in r] == [True, False, False], r
    assert r[1]['error']['type'] == 'NonZeroExit' and r[1]['exit_code'] == 2
    assert r[2]['error']['type'] == 'EOFError', r[2]
    assert 'File "script.py", line 3' in r[2]['error']['traceback'], r[2]


def test_slots_released(s):
    """After a request the run slots are free again: as many concurrent
    /execute runs as max_concurrent succeed."""
    graded(evaluate(s, {'code': 'def f():\n    return 1\n',
                        'entry_point': 'f',
                        'cases': [{'expected': 1}] * 7}))
    import threading
    out = []

    def one():
        out.append(s.execute({'code': 'import time\ntime.sleep(1)',
                              'api_key': s.admin_key})[0])
    ts = [threading.Thread(target=one) for _ in range(5)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert out == [200] * 5, out


def test_concurrent_cases_cannot_meet(s):
    """Cases running at the same time share nothing: not even an abstract
    Unix socket (in zygote mode they would otherwise share the zygote's
    network namespace)."""
    code = ('import socket, time\n'
            'def f(i):\n'
            '    name = "\\0pyexec-evaluate-meet"\n'
            '    if i == 0:\n'
            '        srv = socket.socket(socket.AF_UNIX)\n'
            '        srv.bind(name)\n'
            '        srv.listen(8)\n'
            '        time.sleep(3)\n'
            '        return "bound"\n'
            '    time.sleep(1)\n'
            '    c = socket.socket(socket.AF_UNIX)\n'
            '    try:\n'
            '        c.connect(name)\n'
            '        return "reached"\n'
            '    except OSError:\n'
            '        return "isolated"\n')
    doc = graded(evaluate(s, {'code': code, 'entry_point': 'f',
                              'cases': [{'args': [i], 'expected':
                                         'bound' if i == 0 else 'isolated'}
                                        for i in range(5)]}))
    assert doc['passed'], [c['got'] for c in results(doc)]


def test_result_channel_cannot_be_forged_by_output(s):
    """The value travels on its own channel: printing what looks like a
    result (on stdout or stderr) counts for nothing, and junk written on
    the channel itself fails the case instead of passing it."""
    code = ('import os, sys\n'
            'def f(x):\n'
            '    print("ok")\n'
            '    print("value\\t7")\n'
            '    sys.stderr.write("value\\t7\\n")\n'
            '    if x == 1:\n'
            '        os.write(3, b"value\\t7\\nvalue\\t7\\n")\n'
            '    if x == 2:\n'
            '        os.write(3, b"value\\t__import__(\'os\')\\n")\n'
            '        os._exit(0)\n'
            '    return 1\n')
    doc = graded(evaluate(s, {'code': code, 'entry_point': 'f',
                              'cases': [{'args': [i], 'expected': 7}
                                        for i in range(3)]}))
    r = results(doc)
    assert not any(c['passed'] for c in r), r
    assert r[0]['got'] == 1 and r[0]['error'] is None, r[0]
    assert 'value\t7' in r[0]['stdout']
    assert r[1]['error']['type'] == 'InvalidResult', r[1]
    assert r[2]['error']['type'] == 'InvalidResult', r[2]


def test_tuples_of_one_cross(s):
    """A returned (x,) is a tuple, at any depth, and an empty one too
    ((1,) came back as "(1, ,)", which the worker could not read)."""
    code = ('def f(x):\n    return x\n'
            'def g():\n    return (1,)\n'
            'def h():\n    return [(2,), (), ((3,),), {(4,): (5,)}]\n')
    doc = graded(evaluate(s, {'code': code, 'entry_point': 'f', 'io_cases': [
        {'input': '(7,)', 'output': '(7,)'},
        {'input': '(7,)', 'output': '7'}]}))
    assert [c['passed'] for c in results(doc)] == [True, False], doc
    for entry, output in (('g', '(1,)'),
                          ('h', '[(2,), (), ((3,),), {(4,): (5,)}]')):
        doc = graded(evaluate(s, {'code': code, 'entry_point': entry,
                                  'io_cases': [{'input': '',
                                                'output': output}]}))
        assert doc['passed'], results(doc)


def test_inputs_keep_their_python_types(s):
    """The worker's literals reach the call as the same Python values:
    sets (empty too), one-element and nested tuples, keywords."""
    code = ('def f(x):\n'
            '    return ("set", sorted(x)) if type(x) is set else repr(x)\n')
    doc = graded(evaluate(s, {'code': code, 'entry_point': 'f', 'io_cases': [
        {'input': 'set()', 'output': '("set", [])'},
        {'input': '{3, 1}', 'output': '("set", [1, 3])'},
        {'input': '(1,)', 'output': '"(1,)"'},
        {'input': "((1, 2), [3, 'a'], {'k': (None, True)})",
         'output': "\"((1, 2), [3, 'a'], {'k': (None, True)})\""},
        {'input': 'x=-0.5', 'output': '"-0.5"'}]}))
    assert doc['passed'], results(doc)
    # Each nan is a float of its own, as JSON's NaN and a literal parser's
    # are: two in a set are two elements, and one is not another.
    code = 'def f(x):\n    return [len(x[0]), x[1].count(x[1][0])]\n'
    doc = graded(evaluate(s, {'code': code, 'entry_point': 'f', 'io_cases': [
        {'input': '({nan, nan}, [nan, nan])', 'output': '[2, 1]'}]}))
    assert doc['passed'], results(doc)


def test_special_values_cross_exactly(s):
    """inf and nan go in and come back; ints past 64 bits stay exact; a
    dict with non-string keys comes back as pairs."""
    code = ('def f(x):\n    return x\n'
            'def g():\n    return {1: "a", (2, 3): None}\n')
    doc = graded(evaluate(s, {'code': code, 'entry_point': 'f', 'io_cases': [
        {'input': 'x=inf', 'output': 'inf'},
        {'input': '-inf', 'output': '-inf'},
        {'input': 'nan', 'output': 'nan'},
        {'input': '-123456789012345678901234567890',
         'output': '-123456789012345678901234567890'},
        {'input': '123456789012345678901234567890',
         'output': '123456789012345678901234567891'}]}))
    r = results(doc)
    assert [c['passed'] for c in r] == [True, True, True, True, False], r
    assert [c['got'] for c in r[:3]] == ['Infinity', '-Infinity', 'NaN'], r
    assert r[3]['got'] == -123456789012345678901234567890, r[3]
    # JSON integers are exact up to 2^64 - 2 (json-c's range) ...
    doc = graded(evaluate(s, {'code': code, 'entry_point': 'f', 'cases': [
        {'args': [2 ** 63], 'expected': 2 ** 63},
        {'args': [2 ** 63 + 1], 'expected': 2 ** 63},
        {'args': [-2 ** 63 + 1], 'expected': -2 ** 63 + 1}]}))
    assert [c['got'] for c in results(doc)] == [2 ** 63, 2 ** 63 + 1,
                                                 -2 ** 63 + 1], doc
    assert [c['passed'] for c in results(doc)] == [True, False, True], doc
    # ... and larger ones are refused, not silently clamped
    for big in (2 ** 70, -2 ** 70, 2 ** 64 - 1):
        d = err(evaluate(s, {'code': code, 'entry_point': 'f', 'cases': [
            {'args': [1], 'expected': 1},
            {'args': [1], 'expected': [big]}]}), 400, 'ValidationError')
        assert 'cases[1]' in d['error_details']['message'], d
    doc = graded(evaluate(s, {'code': code, 'entry_point': 'g',
                              'io_cases': [{'input': '',
                                            'output': '{(2, 3): None, 1: "a"}'}]}))
    assert doc['passed'], doc
    assert results(doc)[0]['got'] == [[1, 'a'], [[2, 3], None]], doc


def test_each_case_is_a_jail_of_its_own(s):
    """What a case sees of its jail, in both modes (zygote mode forks each
    case from its lane's case server into mount, PID and IPC namespaces of
    its own): a PID namespace holding only itself and its init, no
    capability left, its seccomp filter, a fresh workspace holding only
    the script, and no mount or unmount it could do to reach the lane's
    or another case's files. kill(-1) reaches its own processes only: the
    cases after it, in the same lanes, still run."""
    code = (
        'import ctypes, os, signal, socket\n'
        'libc = ctypes.CDLL(None, use_errno=True)\n'
        'def status():\n'
        '    out = {}\n'
        '    for line in open("/proc/self/status"):\n'
        '        k, _, v = line.partition(":")\n'
        '        if k in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb",\n'
        '                 "NoNewPrivs", "Seccomp"):\n'
        '            out[k] = v.strip()\n'
        '    return out\n'
        'def f(i):\n'
        '    pids = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())\n'
        '    # exec mode binds matplotlib\'s font list into /tmp/.matplotlib\n'
        '    seen = [sorted(x for x in os.listdir(d) if x != ".matplotlib")\n'
        '            for d in ("/work", "/tmp", "/dev/shm")]\n'
        '    for d in ("/work", "/tmp", "/dev/shm"):\n'
        '        open(d + "/mark", "w").write(str(i))\n'
        '    refused = lambda rv: rv == -1 and ctypes.get_errno() in (1, 38)\n'
        '    um = [refused(libc.umount2(d.encode(), 2))\n'
        '          for d in ("/work", "/tmp", "/proc", "/")]\n'
        '    mt = refused(libc.mount(b"none", b"/work", b"tmpfs", 0, None))\n'
        '    if i % 2:\n'
        '        child = os.fork()\n'
        '        if child == 0:\n'
        '            signal.pause()\n'
        '        os.kill(-1, signal.SIGKILL)\n'
        '        assert os.waitpid(child, 0)[1] == signal.SIGKILL\n'
        '    return [pids, seen, status(), um, mt, socket.gethostname()]\n')
    n = 9
    zero = '0000000000000000'
    want = [[1, 2], [['script.py'], [], []],
            {'CapInh': zero, 'CapPrm': zero, 'CapEff': zero, 'CapBnd': zero,
             'CapAmb': zero, 'NoNewPrivs': '1', 'Seccomp': '2'},
            [True, True, True, True], True, 'sandbox']
    doc = graded(evaluate(s, {'code': code, 'entry_point': 'f',
                              'cases': [{'args': [i], 'expected': want}
                                        for i in range(n)]}))
    r = results(doc)
    assert len(r) == n, doc
    # Every mount and unmount refused (EPERM, or ENOSYS from the filter).
    assert doc['passed'], [(c['got'], c['error']) for c in r]
