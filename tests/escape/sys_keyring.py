"""Kernel keyrings: keyctl, add_key, request_key."""
from escape_util import assert_denied, config, report

CONFIG = config()

ATTACK = ('keyctl(KEYCTL_GET_KEYRING_ID) on the session and user keyrings, '
          'KEYCTL_JOIN_SESSION_KEYRING, add_key("user") and request_key')
EXPECTED = ('every call fails with EPERM: the keyrings (shared by uid across '
            'namespaces) are out of reach')

CODE = r'''
c = lambda s: ctypes.c_char_p(s.encode())
R['keyctl get session'] = sc(250, 0, -3, 0)
R['keyctl get user'] = sc(250, 0, -4, 0)
R['keyctl join session'] = sc(250, 1, c('pyexec'))
R['add_key user'] = sc(248, c('user'), c('pyexec'), c('payload'), 7, -3)
R['request_key'] = sc(249, c('user'), c('pyexec'), None, 0)
done()
'''


def test(stack):
    assert_denied(report(stack, CODE), allowed=('errno:EPERM',))
