"""pyexec_client: a small client for pyexec, the sandboxed Python runner.

    from pyexec_client import Client
    r = Client('https://pyexec.example').execute('print(6 * 7)')
    assert r.stdout == '42\\n'
"""
from .client import AsyncClient, Client, Session
from .errors import (Busy, CodeSyntaxError, FileNotFound, Forbidden,
                     ForbiddenImport, InvalidApiKey, InvalidRequest, NotFound,
                     PyexecError, RateLimited, ServerError, SessionBusy,
                     SessionNotFound, Timeout, TransportError, Unavailable,
                     Unsupported)
from .models import (CellResult, Display, Evaluation, ExecutionResult,
                     OutputFile)

__version__ = '0.1.0'
__all__ = [
    'AsyncClient', 'Busy', 'CellResult', 'Client', 'CodeSyntaxError',
    'Display', 'Evaluation', 'ExecutionResult', 'FileNotFound', 'Forbidden',
    'ForbiddenImport', 'InvalidApiKey', 'InvalidRequest', 'NotFound',
    'OutputFile', 'PyexecError', 'RateLimited', 'ServerError', 'Session',
    'SessionBusy', 'SessionNotFound', 'Timeout', 'TransportError',
    'Unavailable', 'Unsupported',
]
