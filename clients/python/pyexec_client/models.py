"""Typed results of the API."""
from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any, Dict, Optional


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
