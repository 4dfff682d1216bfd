"""personality(): READ_IMPLIES_EXEC, no ASLR, 32-bit layouts."""
from escape_util import assert_denied, config, report

CONFIG = config()

ATTACK = ('personality(0xffffffff) (query), personality(READ_IMPLIES_EXEC), '
          'personality(ADDR_NO_RANDOMIZE), personality(PER_LINUX32) and '
          'personality(PER_SVR4)')
EXPECTED = 'every call fails with EPERM'

CODE = r'''
for name, v in (('query', 0xffffffff), ('READ_IMPLIES_EXEC', 0x0400000),
                ('ADDR_NO_RANDOMIZE', 0x0040000), ('PER_LINUX32', 0x0008),
                ('PER_SVR4', 0x04100001)):
    R[name] = sc(135, v)
done()
'''


def test(stack):
    assert_denied(report(stack, CODE), allowed=('errno:EPERM',))
