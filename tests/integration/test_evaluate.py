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
