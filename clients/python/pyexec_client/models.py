"""Typed results of the API."""
from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional


@dataclass(frozen=True)
class OutputFile:
    """A file the run was asked to return: content, or why not."""
    path: str
    content: Optional[bytes] = None
    size: Optional[int] = None
    error: Optional[str] = None

    @property
    def ok(self) -> bool:
        return self.content is not None

    @property
    def is_image(self) -> bool:
        c = self.content or b''
        return c.startswith(b'\x89PNG\r\n\x1a\n') or c.startswith(b'\xff\xd8\xff')


@dataclass(frozen=True)
class ExecutionResult:
    """One run. success: the script exited 0. termination: exited,
    signaled, timeout, cpu_limit, memory_limit or output_limit."""
    stdout: str
    stderr: str
    exit_code: Optional[int]
    success: bool
    termination: str
    signal: Optional[int]
    duration: float
    cpu_time: float
    max_rss_kb: int
    stdout_truncated: bool
    stderr_truncated: bool
    oom_killed: bool
    files: Dict[str, OutputFile] = field(default_factory=dict)
    stdout_bytes: bytes = b''
    stderr_bytes: bytes = b''
    request_id: Optional[str] = None
    user_info: Dict[str, Any] = field(default_factory=dict)
    server_status: Dict[str, Any] = field(default_factory=dict)
    raw: Dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_response(cls, doc: Dict[str, Any],
                      request_id: Optional[str] = None) -> 'ExecutionResult':
        d = doc['execution_details']
        files = {}
        for path, f in (d.get('output_files') or {}).items():
            if 'content_base64' in f:
                files[path] = OutputFile(
                    path, base64.b64decode(f['content_base64']),
                    f.get('size_bytes'))
            else:
                files[path] = OutputFile(path, None, f.get('size_bytes'),
                                         f.get('error'))

        def raw_stream(name: str) -> bytes:
            if name + '_base64' in d:
                return base64.b64decode(d[name + '_base64'])
            return d[name].encode()
        return cls(
            stdout=d['stdout'], stderr=d['stderr'],
            exit_code=d.get('exit_code'), success=bool(d['success']),
            termination=d['termination'], signal=d.get('signal'),
            duration=float(d['execution_duration_sec']),
            cpu_time=float(d.get('cpu_time_sec', 0.0)),
            max_rss_kb=int(d.get('max_rss_kb', 0)),
            stdout_truncated=bool(d.get('stdout_truncated')),
            stderr_truncated=bool(d.get('stderr_truncated')),
            oom_killed=bool(d.get('oom_killed')), files=files,
            stdout_bytes=raw_stream('stdout'),
            stderr_bytes=raw_stream('stderr'), request_id=request_id,
            user_info=doc.get('user_info') or {},
            server_status=doc.get('server_status') or {}, raw=doc)


@dataclass(frozen=True)
class Display:
    """One rich output of a session cell: a figure or a display() call."""
    mime_type: str
    data: bytes


@dataclass(frozen=True)
class CellResult:
    """One call on a session: the run (as /execute reports it) plus what a
    notebook shows. result: repr of the cell's last expression (None for a
    statement); error: None or {type, message, traceback} of an exception
    the cell raised (the session lives on); session_alive: False if the
    call ended the session (session_message says why)."""
    run: ExecutionResult
    result: Optional[str]
    display: List[Display]
    error: Optional[Dict[str, Any]]
    session_alive: bool
    session_message: Optional[str]

    @property
    def stdout(self) -> str:
        return self.run.stdout

    @property
    def stderr(self) -> str:
        return self.run.stderr

    @property
    def ok(self) -> bool:
        """The cell ran to its end without an exception."""
        return self.error is None and self.run.termination == 'exited'

    @classmethod
    def from_response(cls, doc: Dict[str, Any],
                      request_id: Optional[str] = None) -> 'CellResult':
        d = doc['execution_details']
        return cls(
            run=ExecutionResult.from_response(doc, request_id),
            result=d.get('result'),
            display=[Display(x.get('mime_type', ''),
                             base64.b64decode(x.get('data_base64', '')))
                     for x in d.get('display') or []],
            error=d.get('error'),
            session_alive=bool(d.get('session_alive', True)),
            session_message=d.get('session_message'))


@dataclass(frozen=True)
class Evaluation:
    """One /evaluate: passed is True when every case passed; cases are the
    server's case_results (case, passed, got, expected, error,
    termination, duration_sec, stdout, stderr, ...)."""
    passed: bool
    passed_count: int
    total: int
    cases: List[Dict[str, Any]]
    request_id: Optional[str] = None
    raw: Dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_response(cls, doc: Dict[str, Any],
                      request_id: Optional[str] = None) -> 'Evaluation':
        return cls(passed=bool(doc['passed']),
                   passed_count=int(doc['passed_count']),
                   total=int(doc['total']),
                   cases=list(doc.get('case_results') or []),
                   request_id=request_id, raw=doc)
