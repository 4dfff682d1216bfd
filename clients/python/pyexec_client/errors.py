"""Exceptions, one per error type of the API (see /openapi.json)."""
from __future__ import annotations

from typing import Any, Optional


class PyexecError(Exception):
    """Base class. status is the HTTP status (None if no answer came),
    type the API's error_details.type, request_id the X-Request-Id to
    quote when reporting a problem, body the parsed answer (or None)."""

    def __init__(self, message: str, *, status: Optional[int] = None,
                 type: Optional[str] = None, request_id: Optional[str] = None,
                 body: Optional[dict] = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.type = type
        self.request_id = request_id
        self.body = body

    def __str__(self) -> str:
        s = self.message
        if self.type:
            s = '%s: %s' % (self.type, s)
        if self.request_id:
            s += ' (request id %s)' % self.request_id
        return s


class TransportError(PyexecError):
    """No usable answer: connection refused, TLS failure, a body that is
    not JSON."""


class InvalidRequest(PyexecError):
    """400 InvalidRequest or ValidationError, 413 PayloadTooLarge, 415
    UnsupportedMediaType: the request itself is wrong."""


class CodeSyntaxError(PyexecError):
    """400 SyntaxError: the code does not parse; line and offset say where."""

    @property
    def line(self) -> Optional[int]:
        return _detail(self.body, 'line')

    @property
    def offset(self) -> Optional[int]:
        return _detail(self.body, 'offset')


class ForbiddenImport(PyexecError):
    """400 ForbiddenImportError: public callers may not import these."""

    @property
    def disallowed(self) -> list:
        return _detail(self.body, 'disallowed') or []


class Timeout(PyexecError):
    """400 TimeoutError: the run hit the wall-clock limit. result holds
    what it printed and wrote until then."""

    def __init__(self, *a: Any, result: Any = None, **kw: Any) -> None:
        super().__init__(*a, **kw)
        self.result = result


class Forbidden(PyexecError):
    """403: the admin key is needed (metrics, status)."""


class InvalidApiKey(Forbidden):
    """401 InvalidApiKey: the key given is not the server's admin key."""


class NotFound(PyexecError):
    """404 NotFound."""


class SessionNotFound(NotFound):
    """404 SessionNotFound (servers with sessions)."""


class FileNotFound(NotFound):
    """404 FileNotFound: no such file in the session's workspace."""


class SessionBusy(PyexecError):
    """409 SessionBusy: another call on the session is in progress (never
    queued by the server; retry when it is done)."""


class RateLimited(PyexecError):
    """429 RateLimitExceeded: retry_after seconds until the next try."""

    def __init__(self, *a: Any, retry_after: Optional[int] = None,
                 **kw: Any) -> None:
        super().__init__(*a, **kw)
        self.retry_after = retry_after


class Busy(RateLimited):
    """503 ServerBusy: every run slot is taken; retry shortly."""


class Unavailable(RateLimited):
    """503 ServiceUnavailable: the service cannot serve right now."""


class ServerError(PyexecError):
    """500 InternalError or SandboxError, 504 GatewayTimeout: a fault of
    the server; the code did not run (or its answer was lost)."""


class Unsupported(PyexecError):
    """The server does not offer this (for example sessions)."""


def _detail(body: Optional[dict], key: str) -> Any:
    if isinstance(body, dict):
        return (body.get('error_details') or {}).get(key)
    return None


# error_details.type -> exception class
BY_TYPE = {
    'InvalidRequest': InvalidRequest,
    'ValidationError': InvalidRequest,
    'PayloadTooLarge': InvalidRequest,
    'UnsupportedMediaType': InvalidRequest,
    'SyntaxError': CodeSyntaxError,
    'ForbiddenImportError': ForbiddenImport,
    'TimeoutError': Timeout,
    'Forbidden': Forbidden,
    'InvalidApiKey': InvalidApiKey,
    'NotFound': NotFound,
    'SessionNotFound': SessionNotFound,
    'SessionBusy': SessionBusy,
    'FileNotFound': FileNotFound,
    'RateLimitExceeded': RateLimited,
    'ServerBusy': Busy,
    'ServiceUnavailable': Unavailable,
    'InternalError': ServerError,
    'SandboxError': ServerError,
    'GatewayTimeout': ServerError,
}
