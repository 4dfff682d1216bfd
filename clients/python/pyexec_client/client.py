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
from typing import (Any, Dict, Iterable, List, Mapping, Optional, Sequence,
                    Tuple, Union)

from . import errors
from .models import CellResult, Evaluation, ExecutionResult

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
                 headers: Optional[Dict[str, str]] = None,
                 raw: Optional[bytes] = None
                 ) -> Tuple[int, Dict[str, str], bytes]:
        h = {'Accept': 'application/json',
             'User-Agent': 'pyexec-client/0.1'}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            h['Content-Type'] = 'application/json'
        elif raw is not None:
            data = raw
            h['Content-Type'] = 'application/octet-stream'
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
        if status not in (200, 201):
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

    def evaluate(self, code: str, *, entry_point: Optional[str] = None,
                 cases: Optional[Sequence[Mapping[str, Any]]] = None,
                 io_cases: Optional[Sequence[Mapping[str, str]]] = None,
                 comparator: Union[str, Mapping[str, Any], None] = None,
                 time_limit_per_case_seconds: Optional[float] = None,
                 stop_on_first_failure: bool = False,
                 files: Optional[Mapping[str, FileData]] = None
                 ) -> Evaluation:
        """Grades code against test cases, each in a fresh jail, with the
        expected values compared outside it (POST /evaluate). Function
        mode: entry_point and cases [{args, kwargs, expected}] or io_cases
        [{input, output}]; program mode (no entry_point): cases [{stdin,
        expected_stdout}]. comparator: 'exact', 'unordered', 'lines',
        'tokens', or a dict such as {'type': 'float', 'abs_tol': 1e-9}."""
        body: Dict[str, Any] = {'code': code}
        if entry_point is not None:
            body['entry_point'] = entry_point
        if cases is not None:
            body['cases'] = [dict(c) for c in cases]
        if io_cases is not None:
            body['io_cases'] = [dict(c) for c in io_cases]
        if comparator is not None:
            body['comparator'] = ({'type': comparator}
                                  if isinstance(comparator, str)
                                  else dict(comparator))
        if time_limit_per_case_seconds is not None:
            body['time_limit_per_case_seconds'] = time_limit_per_case_seconds
        if stop_on_first_failure:
            body['stop_on_first_failure'] = True
        if files:
            body['attachments'] = _encode_files(files)
        doc, rid = self._json('POST', '/evaluate', body,
                              headers=self._admin_headers())
        return Evaluation.from_response(doc, rid)

    def supports_sessions(self) -> bool:
        return '/sessions' in self.openapi().get('paths', {})

    def session(self, *, files: Optional[Mapping[str, FileData]] = None
                ) -> 'Session':
        """A new session: a live interpreter whose variables, imports and
        files last across calls, until closed (or its idle timeout).

            with c.session() as s:
                s.execute('import numpy as np; a = np.arange(10)')
                print(s.execute('a.sum()').result)        # '45'
        """
        if not self.supports_sessions():
            raise errors.Unsupported('this server has no sessions')
        body: Dict[str, Any] = {}
        if files:
            body['attachments'] = _encode_files(files)
        doc, _ = self._json('POST', '/sessions', body,
                            headers=self._admin_headers())
        return Session(self, doc)

    def attach(self, session_id: str) -> 'Session':
        """The session with this id (made earlier, maybe by another
        process); raises SessionNotFound if it is gone."""
        s = Session(self, {'session_id': session_id})
        s.info()
        return s


def _quote_path(path: str) -> str:
    return '/'.join(urllib.parse.quote(p, safe='') for p in path.split('/'))


class Session:
    """One server session. Its id is the capability to use it: give it only
    to whoever may see its state. Closing it (or leaving the with block)
    releases it on the server."""

    def __init__(self, client: Client, doc: Dict[str, Any]) -> None:
        self._c = client
        self.id: str = doc['session_id']
        self.created_utc: Optional[str] = doc.get('created_utc')
        self.expires_utc: Optional[str] = doc.get('expires_utc')
        self.idle_timeout_seconds: Optional[int] = doc.get(
            'idle_timeout_seconds')
        self.limits: Dict[str, Any] = doc.get('limits') or {}
        self.closed = False

    def __enter__(self) -> 'Session':
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return '<pyexec Session %s...%s>' % (self.id[:6], ' closed'
                                             if self.closed else '')

    def _path(self, sub: str = '') -> str:
        return '/sessions/' + urllib.parse.quote(self.id, safe='') + sub

    def _call(self, method: str, sub: str = '',
              body: Optional[dict] = None) -> Tuple[dict, Optional[str]]:
        return self._c._json(method, self._path(sub), body,
                             headers=self._c._admin_headers())

    def execute(self, code: str, *, stdin: Optional[str] = None,
                return_files: Optional[Iterable[str]] = None) -> CellResult:
        """Runs a cell: .result is the repr of its last expression, .error
        the exception it raised (the session lives on), .display its
        figures and display() outputs."""
        body: Dict[str, Any] = {'code': code}
        if stdin is not None:
            body['stdin_data'] = stdin
        if return_files:
            body['return_files'] = list(return_files)
        doc, rid = self._call('POST', '/execute', body)
        return CellResult.from_response(doc, rid)

    def run(self, cmd: str, *, stdin: Optional[str] = None) -> ExecutionResult:
        """/bin/sh -c cmd in the session's jail, cwd its workspace."""
        body: Dict[str, Any] = {'cmd': cmd}
        if stdin is not None:
            body['stdin_data'] = stdin
        doc, rid = self._call('POST', '/run', body)
        return ExecutionResult.from_response(doc, rid)

    def files(self) -> List[Dict[str, Any]]:
        """The workspace: [{path, type, size_bytes}, ...]."""
        return list(self._call('GET', '/files')[0].get('files') or [])

    def read(self, path: str) -> bytes:
        status, hdrs, raw = self._c._request(
            'GET', self._path('/files/' + _quote_path(path)),
            headers=self._c._admin_headers())
        if status != 200:
            raise _error_from(status, hdrs, raw, hdrs.get('X-Request-Id'))
        return raw

    def write(self, path: str, data: FileData) -> None:
        if isinstance(data, os.PathLike):
            data = Path(data).read_bytes()
        elif isinstance(data, str):
            data = data.encode()
        status, hdrs, raw = self._c._request(
            'PUT', self._path('/files/' + _quote_path(path)),
            headers=self._c._admin_headers(), raw=bytes(data))
        if status != 200:
            raise _error_from(status, hdrs, raw, hdrs.get('X-Request-Id'))

    def remove(self, path: str) -> None:
        self._call('DELETE', '/files/' + _quote_path(path))

    def move(self, src: str, dst: str) -> None:
        self._call('POST', '/move', {'from': src, 'to': dst})

    def info(self) -> Dict[str, Any]:
        """{session_id, created_utc, last_used_utc, expires_utc,
        executions, busy, memory_bytes}."""
        return self._call('GET')[0]

    def fork(self) -> 'Session':
        """A new session with a copy of this one's files and live
        interpreter state (servers that offer POST /sessions/{id}/fork)."""
        if '/sessions/{id}/fork' not in self._c.openapi().get('paths', {}):
            raise errors.Unsupported('this server cannot fork sessions')
        return Session(self._c, self._call('POST', '/fork')[0])

    def close(self) -> None:
        """Releases the session; closing one already gone is not an
        error."""
        if self.closed:
            return
        try:
            self._call('DELETE')
        except errors.SessionNotFound:
            pass
        self.closed = True


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

    async def evaluate(self, code: str, **kw: Any) -> Evaluation:
        return await asyncio.to_thread(self._sync.evaluate, code, **kw)
