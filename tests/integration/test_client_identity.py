"""Issue 10, item 11: who the per-client limits count.

IPv6 clients are counted per /64 (rate_limit_ipv6_prefix), since one host
holds a whole /64; an IPv4 address written as IPv6 (::ffff:a.b.c.d) is the
same client as a.b.c.d. The address reaches the worker through nginx's
realip (the test stack trusts X-Forwarded-For from loopback).
"""
from helpers import err

CONFIG = {'rate_limit_per_minute': 1, 'daily_quota': 30}


def _run(s, ip):
    return s.execute({'code': 'print(1)'}, ip=ip)


def test_ipv6_counted_per_64(s):
    st, doc, _ = _run(s, '2001:db8:10:1::1')
    assert st == 200, doc
    assert doc['user_info']['ip_address'] == '2001:db8:10:1::1', doc
    # Another address of the same /64 is the same client.
    err(_run(s, '2001:db8:10:1:ffff:1234:5678:9abc'), 429,
        'RateLimitExceeded')
    # The next /64 is another.
    st, doc, _ = _run(s, '2001:db8:10:2::1')
    assert st == 200, doc


def test_v4_mapped_is_the_v4_client(s):
    st, doc, _ = _run(s, '192.0.2.77')
    assert st == 200, doc
    err(_run(s, '::ffff:192.0.2.77'), 429, 'RateLimitExceeded')
    st, doc, _ = _run(s, '::ffff:192.0.2.78')
    assert st == 200, doc
    err(_run(s, '192.0.2.78'), 429, 'RateLimitExceeded')
