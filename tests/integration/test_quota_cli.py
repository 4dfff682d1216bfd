"""pyexec-fcgi --quota ADDRESS [--reset]: an operator reads and resets a
client's counters in the real store the workers charge, with the same
configuration, an IPv6 address counted as its /64 like the workers do."""
import os
import subprocess

from helpers import ok


def quota(s, *args):
    p = subprocess.run([s.binary, '-c', s.conf_path, '--quota'] + list(args),
                       capture_output=True, text=True, timeout=120)
    out = {}
    for line in p.stdout.splitlines():
        k, _, v = line.partition(': ')
        out[k] = v
    return p.returncode, out, p.stderr


def test_quota_reads_and_resets(s):
    ip = '198.51.100.61'
    for _ in range(3):
        ok(s.execute({'code': 'pass'}, ip=ip))
    rc, out, e = quota(s, ip)
    assert rc == 0, e
    assert out['client'] == ip, out
    assert out['requests_today'] == '3' and out['requests_last_minute'] == '3', out
    assert out['daily_quota'] == str(s.config['daily_quota']), out
    # Reading charges nothing.
    rc, out, e = quota(s, ip)
    assert out['requests_today'] == '3', out
    rc, out, e = quota(s, ip, '--reset')
    assert rc == 0, e
    # One day row, and one window row per second the three were charged in.
    n = int(out['reset'].split()[0])
    assert 2 <= n <= 4 and out['requests_today'] == '0', out
    st, doc, _ = s.execute({'code': 'pass'}, ip=ip)
    assert doc['user_info']['requests_today'] == 1, doc


def test_ipv6_counts_as_its_64(s):
    for a in ('2001:db8:61:1::5', '2001:db8:61:1:ffff::6'):
        ok(s.execute({'code': 'pass'}, ip=a))
    rc, out, e = quota(s, '2001:db8:61:1::99')
    assert rc == 0, e
    assert out['client'] == '2001:db8:61:1::/64', out
    assert out['requests_today'] == '2', out
    rc, out, e = quota(s, '2001:db8:61:2::5')
    assert out['requests_today'] == '0', out
    rc, out, e = quota(s, '::ffff:198.51.100.62')
    assert out['client'] == '198.51.100.62', out


def test_store_stays_the_workers(s):
    # Run as root, --quota becomes the store's owner: the files it leaves
    # (the WAL and its index) stay the workers', who keep charging.
    quota(s, '198.51.100.63', '--reset')
    state = s.config['state_dir']
    owner = os.stat(state).st_uid
    for name in os.listdir(state):
        assert os.stat(os.path.join(state, name)).st_uid == owner, name
    ok(s.execute({'code': 'pass'}, ip='198.51.100.63'))
    rc, out, e = quota(s, '198.51.100.63')
    assert out['requests_today'] == '1', out


def test_bad_address(s):
    rc, out, e = quota(s, 'not-an-address')
    assert rc == 2 and 'not an IPv4 or IPv6 address' in e, (rc, e)
    p = subprocess.run([s.binary, '-c', s.conf_path, '--reset'],
                       capture_output=True, text=True)
    assert p.returncode == 2 and 'usage' in p.stderr
