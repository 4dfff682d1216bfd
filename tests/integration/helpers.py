"""Shared helpers for integration tests (imported by test modules)."""
import base64
import io
import os
import struct
import zlib


def b64(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.b64encode(data).decode()


def unb64(s):
    return base64.b64decode(s, validate=True)


def ok(resp):
    """Asserts a 200 success and returns execution_details."""
    status, doc, _ = resp
    assert status == 200, (status, doc)
    assert doc['status'] == 'success', doc
    return doc['execution_details']


def err(resp, status, etype):
    st, doc, _ = resp
    assert st == status, (st, doc)
    assert doc is not None, 'error body is not JSON'
    assert doc['status'] == 'error', doc
    assert doc['error_details']['type'] == etype, doc
    assert isinstance(doc['error_details']['message'], str) and \
        doc['error_details']['message'], doc
    assert doc['timestamp_utc'].endswith('+00:00'), doc
    return doc


def png_rgb(width, height):
    """A small RGB PNG made without Pillow (the test client has none)."""
    raw = b''.join(b'\x00' + bytes((x * 40 % 256, y * 60 % 256, 200) * 1)
                   * 1 for y in range(height) for x in range(1))
    rows = []
    for y in range(height):
        row = b'\x00' + b''.join(bytes(((x * 37) % 256, (y * 59) % 256, 128))
                                 for x in range(width))
        rows.append(row)
    raw = b''.join(rows)

    def chunk(t, d):
        c = struct.pack('>I', len(d)) + t + d
        return c + struct.pack('>I', zlib.crc32(t + d) & 0xffffffff)
    return (b'\x89PNG\r\n\x1a\n' +
            chunk(b'IHDR', struct.pack('>IIBBBBB', width, height, 8, 2, 0, 0, 0)) +
            chunk(b'IDAT', zlib.compress(raw)) + chunk(b'IEND', b''))
