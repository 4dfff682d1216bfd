"""200 MB of output on stdout, from two processes."""
from escape_util import assert_output_flood, config

CONFIG = config()

ATTACK = ('write 200 MB to stdout in 1 MiB chunks from the script and from '
          'a forked child at the same time')
EXPECTED = ('the run is stopped with termination "output_limit", '
            'stdout_truncated true, stdout at most max_output_bytes, the '
            'HTTP response bounded (about max_output_bytes), quickly; the '
            'worker survives')


def test(stack):
    assert_output_flood(stack, 'stdout')
