"""Issue 10, item 8: returned files cannot amplify a reply.

Sparse files cost a run nothing (a truncate), yet each is returned at its
full size. All returned files of a request are capped together at
max_return_bytes, counted by file size, and their content is encoded into
the reply as it is sent, so the worker never holds it whole.
"""
import base64

from escape_util import worker_pids

MAX_FILE = 8 * 1024 * 1024
CONFIG = {'max_return_bytes': 16 * 1024 * 1024, 'max_file_bytes': MAX_FILE}

CODE = '''
import os
for i in range(8):
    with open('sparse%d' % i, 'wb') as f:
        f.truncate({size})
with open('small', 'wb') as f:
    f.write(bytes(range(256)) * 3 + b'end')
'''.format(size=MAX_FILE)


def _kib(pid, key):
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            if line.startswith(key + ':'):
                return int(line.split()[1])
    return 0


def test_sparse_files_capped_and_streamed(s):
    pids = sorted(worker_pids(s))
    for p in pids:
        with open('/proc/%d/clear_refs' % p, 'w') as f:
            f.write('5')
    names = ['small'] + ['sparse%d' % i for i in range(8)]
    st, hdrs, body = s.request('POST', '/execute', (
        '{"code": %s, "return_files": %s, "api_key": "%s"}' % (
            __import__('json').dumps(CODE), __import__('json').dumps(names),
            s.admin_key)).encode(), {'Content-Type': 'application/json'},
        timeout=120)
    assert st == 200, body[:300]
    # 16 MiB of files is 22.4 MB of base64; the rest of the reply is small.
    assert len(body) < 16 * 1024 * 1024 * 4 // 3 + 256 * 1024, len(body)
    doc = __import__('json').loads(body)
    files = doc['execution_details']['output_files']
    small = base64.b64decode(files['small']['content_base64'], validate=True)
    assert small == bytes(range(256)) * 3 + b'end', small[:40]
    sent = [n for n in names[1:] if 'content_base64' in files[n]]
    refused = [n for n in names[1:] if 'error' in files[n]]
    assert len(sent) == 1 and len(refused) == 7, files.keys()
    data = base64.b64decode(files[sent[0]]['content_base64'], validate=True)
    assert data == bytes(MAX_FILE), 'sparse file content wrong'
    for n in refused:
        assert files[n] == {
            'error': 'Returned files together exceed max_return_bytes.',
            'size_bytes': MAX_FILE}, files[n]
    peak = max(_kib(p, 'VmHWM') for p in pids) // 1024
    # Before: three copies of an 89 MB reply, 278 MB in one worker.
    assert peak <= 24, 'a worker peaked at %d MiB' % peak
