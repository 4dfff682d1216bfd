"""SIGINT in a script is KeyboardInterrupt, as under python3, in both
modes (zygote mode restores CPython's handler itself after the jail reset
every disposition)."""
from helpers import ok

CODE = r'''
import os, signal
print(signal.getsignal(signal.SIGINT) is signal.default_int_handler)
try:
    os.kill(os.getpid(), signal.SIGINT)
    for _ in range(1000000):
        pass
    print('no exception')
except KeyboardInterrupt:
    print('KeyboardInterrupt')
'''


def test_sigint_raises_keyboard_interrupt(s):
    d = ok(s.execute({'code': CODE, 'api_key': s.admin_key}))
    assert d['stdout'] == 'True\nKeyboardInterrupt\n', d
