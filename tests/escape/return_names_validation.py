"""return_files and attachment names that climb out of /work."""
from escape_util import config, run

CONFIG = config()

ATTACK = ('return_files names "../x", "a/../../x", "..", ".", "./script.py", '
          '"a/./b", "/etc/passwd", "//etc/passwd", "a//b", "a//", "../", "", a NUL '
          'byte, a newline, 256 bytes, 17 components; attachments named '
          '"../evil", "/tmp/evil" and "a/../../evil"')
EXPECTED = ('each request is refused at validation with 400 ValidationError; '
            'the code never runs (no execution_details)')

BAD = ['../x', 'a/../../x', '..', '.', './script.py', 'a/./b', '/etc/passwd',
       '//etc/passwd', 'a//b', 'a//', '../', '', 'x\x00y', 'a\nb', 'x' * 256,
       '/'.join(['d'] * 17), '../../../../../../etc/shadow']
BAD_ATT = ['../evil', '/tmp/evil', 'a/../../evil', '..', 'a/']


def test(stack):
    for name in BAD:
        status, doc = run(stack, 'print("ran")', return_files=[name])
        assert status == 400 and doc.get('error_details', {}).get('type') == \
            'ValidationError' and 'execution_details' not in doc, \
            (name, status, doc)
    for name in BAD_ATT:
        status, doc = run(stack, 'print("ran")', attachments=[
            {'filename': name, 'content_base_64': 'ZXZpbA=='}])
        assert status == 400 and doc.get('error_details', {}).get('type') == \
            'ValidationError' and 'execution_details' not in doc, \
            (name, status, doc)
