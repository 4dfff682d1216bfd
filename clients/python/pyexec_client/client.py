"""Client and AsyncClient: the API over HTTPS, standard library only.

TLS is always verified: against the system's certificates, SSL_CERT_FILE
(OpenSSL reads it), or the cacert given here. There is no switch to turn
verification off.
"""
from __future__ import annotations

import asyncio
import base64
import json
import os
import ssl
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any, Dict, Iterable, Mapping, Optional, Tuple, Union

from . import errors
from .models import ExecutionResult

DEFAULT_URL = 'https://localhost'
FileData = Union[bytes, str, os.PathLike]


def _encode_files(files: Optional[Mapping[str, FileData]]) -> list:
    out = []
    for name, data in (files or {}).items():
        if isinstance(data, os.PathLike):
            data = Path(data).read_bytes()
        elif isinstance(data, str):
            data = data.encode()
        out.append({'filename': name,
                    'content_base_64': base64.b64encode(data).decode()})
    return out


def _error_from(status: int, headers: Mapping[str, str], body: bytes,
                request_id: Optional[str]) -> errors.PyexecError:
    try:
        doc = json.loads(body)
        ed = doc['error_details']
        etype, msg = ed['type'], ed['message']
    except (ValueError, KeyError, TypeError):
        return errors.TransportError(
            'HTTP %d with a body that is not a pyexec error' % status,
            status=status, request_id=request_id)
    cls = errors.BY_TYPE.get(etype, errors.PyexecError)
    kw: Dict[str, Any] = dict(status=status, type=etype,
                              request_id=request_id, body=doc)
    if issubclass(cls, errors.RateLimited):
        try:
            kw['retry_after'] = int(headers.get('Retry-After', ''))
        except ValueError:
            kw['retry_after'] = None
    if cls is errors.Timeout and 'execution_details' in doc:
        kw['result'] = ExecutionResult.from_response(doc, request_id)
    return cls(msg, **kw)


class Client:
    """A pyexec server.

        with Client('https://pyexec.example', api_key=None) as c:
            r = c.execute('print(6 * 7)')
            print(r.stdout, r.exit_code)

    url and api_key default to $PYEXEC_URL and $PYEXEC_API_KEY; cacert is
    a PEM file of certificates to trust (default: the system's, or
    $SSL_CERT_FILE). timeout bounds each HTTP exchange, in seconds: keep
    it above the server's time limit.
    """

    def __init__(self, url: Optional[str] = None, api_key: Optional[str] = None,
                 *, cacert: Optional[str] = None, timeout: float = 360.0) -> None:
        self.url = (url or os.environ.get('PYEXEC_URL') or DEFAULT_URL).rstrip('/')
        if api_key is None:
            api_key = os.environ.get('PYEXEC_API_KEY') or None
        self.api_key = api_key
        self.timeout = timeout
        scheme = urllib.parse.urlsplit(self.url).scheme
        if scheme not in ('https', 'http'):
            raise ValueError('url must be http(s)://...: %r' % self.url)
        self._ssl = ssl.create_default_context(cafile=cacert)
        self._spec: Optional[dict] = None

    def __enter__(self) -> 'Client':
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        """Nothing is held between calls; kept for symmetry."""

    # -- transport ---------------------------------------------------------
    def _request(self, method: str, path: str, body: Optional[dict] = None,
                 headers: Optional[Dict[str, str]] = None
                 ) -> Tuple[int, Dict[str, str], bytes]:
        h = {'Accept': 'application/json',
             'User-Agent': 'pyexec-client/0.1'}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            h['Content-Type'] = 'application/json'
        h.update(headers or {})
        req = urllib.request.Request(self.url + path, data=data, headers=h,
                                     method=method)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout,
                                        context=self._ssl) as r:
                return r.status, dict(r.headers.items()), r.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers.items()), e.read()
        except (urllib.error.URLError, OSError) as e:
            reason = getattr(e, 'reason', e)
            raise errors.TransportError('cannot reach %s: %s'
                                        % (self.url, reason)) from e

    def _json(self, method: str, path: str, body: Optional[dict] = None,
              headers: Optional[Dict[str, str]] = None) -> Tuple[dict, Optional[str]]:
        status, hdrs, raw = self._request(method, path, body, headers)
        rid = hdrs.get('X-Request-Id')
        if status != 200:
            raise _error_from(status, hdrs, raw, rid)
        try:
            return json.loads(raw), rid
        except ValueError as e:
            raise errors.TransportError('answer is not JSON', status=status,
                                        request_id=rid) from e

    def _admin_headers(self) -> Dict[str, str]:
        return {'Authorization': 'Bearer ' + self.api_key} if self.api_key else {}

    # -- the API -------------------------------------------------------------
    def execute(self, code: str, *, stdin: Optional[str] = None,
                files: Optional[Mapping[str, FileData]] = None,
                return_files: Optional[Iterable[str]] = None,
                limits: Optional[Mapping[str, int]] = None) -> ExecutionResult:
        """Runs code; files maps names in the workspace to bytes, text or a
        local path; return_files names the files to bring back (in
        result.files; patterns and "dir/" too); limits lowers the server's
        (time_limit_seconds, memory_limit_mb, max_output_bytes,
        max_processes). Raises a PyexecError subclass for every error
        answer; a script that fails is not an error (see result.success)."""
        body: Dict[str, Any] = {'code': code}
        if stdin is not None:
            body['stdin_data'] = stdin
        if files:
            body['attachments'] = _encode_files(files)
        if return_files:
            body['return_files'] = list(return_files)
        if limits:
            body['limits'] = dict(limits)
        if self.api_key:
            body['api_key'] = self.api_key
        doc, rid = self._json('POST', '/execute', body)
        return ExecutionResult.from_response(doc, rid)

    def health(self) -> bool:
        doc, _ = self._json('GET', '/healthz')
        return doc.get('status') == 'ok'

    def status(self) -> dict:
        """GET /status (admin key, or an address the operator allowed)."""
        return self._json('GET', '/status', headers=self._admin_headers())[0]

    def metrics(self) -> str:
        """GET /metrics, Prometheus text."""
        status, hdrs, raw = self._request('GET', '/metrics',
                                          headers=self._admin_headers())
        if status != 200:
            raise _error_from(status, hdrs, raw, hdrs.get('X-Request-Id'))
        return raw.decode()

    def openapi(self) -> dict:
        if self._spec is None:
            self._spec = self._json('GET', '/openapi.json')[0]
        return self._spec

    def supports_sessions(self) -> bool:
        return '/sessions' in self.openapi().get('paths', {})

    def session(self) -> Any:
        """A session (notebook-style state across runs), on servers that
        have them. This server's API is read from /openapi.json."""
        if not self.supports_sessions():
            raise errors.Unsupported('this server has no sessions')
        raise errors.Unsupported('this client version does not speak '
                                 'the server\'s sessions yet')


class AsyncClient:
    """The same API for asyncio. Each call runs the blocking exchange in a
    worker thread (asyncio.to_thread), so many runs can be awaited at once
    without a third-party HTTP library.

        async with AsyncClient(url) as c:
            results = await asyncio.gather(*(c.execute(s) for s in scripts))
    """

    def __init__(self, *a: Any, **kw: Any) -> None:
        self._sync = Client(*a, **kw)

    async def __aenter__(self) -> 'AsyncClient':
        return self

    async def __aexit__(self, *exc: Any) -> None:
        self._sync.close()

    @property
    def url(self) -> str:
        return self._sync.url

    async def execute(self, code: str, **kw: Any) -> ExecutionResult:
        return await asyncio.to_thread(self._sync.execute, code, **kw)

    async def health(self) -> bool:
        return await asyncio.to_thread(self._sync.health)

    async def status(self) -> dict:
        return await asyncio.to_thread(self._sync.status)

    async def metrics(self) -> str:
        return await asyncio.to_thread(self._sync.metrics)

    async def openapi(self) -> dict:
        return await asyncio.to_thread(self._sync.openapi)
