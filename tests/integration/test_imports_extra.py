"""allowed_imports_extra adds modules for public callers to the default
list instead of replacing it (allowed_imports replaced it, so adding one
module dropped `time` and the rest)."""
from helpers import err, ok

CONFIG = {'allowed_imports_extra': 'csv, zlib'}


def test_extra_modules_allowed(s):
    d = ok(s.execute({'code': 'import csv, zlib\nprint(zlib.crc32(b"a"), csv.QUOTE_ALL)'}))
    assert d['stdout'] == '3904355907 1\n', d


def test_default_list_kept(s):
    d = ok(s.execute({'code': 'import time, math, json, numpy, sys\nprint(math.isqrt(49))'}))
    assert d['stdout'] == '7\n', d


def test_others_still_refused(s):
    doc = err(s.execute({'code': 'import csv, os, subprocess'}), 400,
              'ForbiddenImportError')
    ed = doc['error_details']
    assert ed['disallowed'] == ['os', 'subprocess'], doc
    assert ed['message'] == 'Import of disallowed module(s): os, subprocess.', doc
