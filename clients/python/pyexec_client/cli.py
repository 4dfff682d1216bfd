"""pyexec: the command line of pyexec_client.

    pyexec run script.py [--stdin FILE] [--attach FILE...] [--get PATH...]
    pyexec health | status | metrics

The server is $PYEXEC_URL (or --url), the key $PYEXEC_API_KEY (or
--api-key-file); certificates to trust come from the system, $SSL_CERT_FILE
or --cacert. `run` prints the script's stdout and stderr as they were,
writes the files asked for with --get under --output-dir, and exits with
the script's exit code: 128+N if a signal N killed it, 124 at the time
limit, 125 if pyexec refused or failed the request (the reason goes to
stderr).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path, PurePosixPath
from typing import List, Optional

from . import errors
from .client import Client

EXIT_TIMEOUT = 124
EXIT_PYEXEC = 125


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog='pyexec', description='Run Python on a pyexec server.',
        epilog='Environment: PYEXEC_URL, PYEXEC_API_KEY, SSL_CERT_FILE.')
    p.add_argument('--url', help='server URL (default: $PYEXEC_URL)')
    p.add_argument('--cacert', metavar='PEM',
                   help='certificates to trust for the server (default: the '
                   "system's, or $SSL_CERT_FILE)")
    p.add_argument('--api-key-file', metavar='FILE',
                   help='read the API key from FILE (default: $PYEXEC_API_KEY)')
    p.add_argument('--timeout', type=float, default=360.0,
                   help='seconds to wait for an answer (default 360)')
    sub = p.add_subparsers(dest='cmd', required=True)
    r = sub.add_parser('run', help='run a script, print its output, exit '
                       'with its exit code')
    r.add_argument('script', help="the script ('-' reads standard input)")
    r.add_argument('--stdin', metavar='FILE',
                   help="file to feed as the script's standard input")
    r.add_argument('--attach', metavar='FILE', nargs='+', action='extend',
                   default=[], help='files to put beside the script (by '
                   'their base name)')
    r.add_argument('--get', metavar='PATH', nargs='+', action='extend',
                   default=[], help='files to bring back after the run')
    r.add_argument('--output-dir', metavar='DIR', default='.',
                   help='where --get files are written (default: .)')
    r.add_argument('--json', action='store_true',
                   help='print the whole answer as JSON instead')
    sub.add_parser('health', help='check that the server answers')
    sub.add_parser('status', help="the server's status (admin)")
    sub.add_parser('metrics', help="the server's Prometheus metrics (admin)")
    return p


def _safe_target(outdir: Path, name: str) -> Path:
    """The local path for a returned file; never outside outdir."""
    p = PurePosixPath(name)
    if p.is_absolute() or any(part in ('', '.', '..') for part in p.parts):
        raise errors.PyexecError('refusing to write returned file %r' % name)
    return outdir.joinpath(*p.parts)


def _run(c: Client, a: argparse.Namespace) -> int:
    code = sys.stdin.read() if a.script == '-' else Path(a.script).read_text()
    stdin = Path(a.stdin).read_text() if a.stdin else None
    files = {os.path.basename(f): Path(f) for f in a.attach}
    try:
        r = c.execute(code, stdin=stdin, files=files or None,
                      return_files=a.get or None)
    except errors.Timeout as e:
        if e.result is not None:
            sys.stdout.buffer.write(e.result.stdout_bytes)
            sys.stderr.buffer.write(e.result.stderr_bytes)
        print('pyexec: %s' % e, file=sys.stderr)
        return EXIT_TIMEOUT
    if a.json:
        json.dump(r.raw, sys.stdout, indent=2)
        sys.stdout.write('\n')
    else:
        sys.stdout.buffer.write(r.stdout_bytes)
        sys.stdout.flush()
        sys.stderr.buffer.write(r.stderr_bytes)
        sys.stderr.flush()
    status = 0
    outdir = Path(a.output_dir)
    for name, f in r.files.items():
        if not f.ok:
            print('pyexec: %s: %s' % (name, f.error), file=sys.stderr)
            status = EXIT_PYEXEC
            continue
        target = _safe_target(outdir, name)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(f.content or b'')
    if r.stdout_truncated or r.stderr_truncated:
        print('pyexec: output truncated (%s)' % r.termination, file=sys.stderr)
    if r.termination == 'exited':
        return r.exit_code if r.exit_code else status
    if r.signal:
        print('pyexec: killed by signal %d (%s)' % (r.signal, r.termination),
              file=sys.stderr)
        return 128 + r.signal
    print('pyexec: run ended: %s' % r.termination, file=sys.stderr)
    return EXIT_TIMEOUT if r.termination in ('timeout', 'cpu_limit') else EXIT_PYEXEC


def main(argv: Optional[List[str]] = None) -> int:
    a = _parser().parse_args(argv)
    key = None
    try:
        if a.api_key_file:
            key = Path(a.api_key_file).read_text().strip()
        c = Client(a.url, key, cacert=a.cacert, timeout=a.timeout)
        if a.cmd == 'run':
            return _run(c, a)
        if a.cmd == 'health':
            ok = c.health()
            print('ok' if ok else 'not ok')
            return 0 if ok else 1
        if a.cmd == 'status':
            json.dump(c.status(), sys.stdout, indent=2)
            sys.stdout.write('\n')
            return 0
        if a.cmd == 'metrics':
            sys.stdout.write(c.metrics())
            return 0
    except errors.RateLimited as e:
        print('pyexec: %s%s' % (e, '; retry in %d s' % e.retry_after
                                 if e.retry_after else ''), file=sys.stderr)
        return EXIT_PYEXEC
    except errors.PyexecError as e:
        print('pyexec: %s' % e, file=sys.stderr)
        return EXIT_PYEXEC
    except (OSError, ValueError) as e:
        print('pyexec: %s' % e, file=sys.stderr)
        return EXIT_PYEXEC
    return 2
