"""pyexec_build: a PEP 517 build backend for pyexec-client, standard
library only, so that `pip install ./clients/python` works offline (pip's
isolated build environment gets nothing to download).

It knows this one project: the package directory pyexec_client/, the
metadata below (kept equal to pyproject.toml), one console script.
"""
import base64
import hashlib
import io
import os
import tarfile
import time
import zipfile

NAME = 'pyexec_client'
DIST = 'pyexec-client'
VERSION = '0.1.0'
SUMMARY = 'Client and command line for pyexec, the sandboxed Python runner'
REQUIRES_PYTHON = '>=3.11'
SCRIPTS = {'pyexec': 'pyexec_client.cli:main'}
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TAG = 'py3-none-any'


def _metadata():
    return ('Metadata-Version: 2.1\nName: %s\nVersion: %s\nSummary: %s\n'
            'Requires-Python: %s\n' % (DIST, VERSION, SUMMARY, REQUIRES_PYTHON))


def _package_files():
    pkg = os.path.join(ROOT, NAME)
    for dirpath, dirnames, files in os.walk(pkg):
        dirnames[:] = sorted(d for d in dirnames if d != '__pycache__')
        for f in sorted(files):
            if f.endswith('.py') or f == 'py.typed':
                full = os.path.join(dirpath, f)
                yield full, os.path.relpath(full, ROOT).replace(os.sep, '/')


def _digest(data):
    h = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b'=')
    return 'sha256=' + h.decode()


def _dist_info_files():
    di = '%s-%s.dist-info' % (NAME, VERSION)
    ep = '[console_scripts]\n' + ''.join(
        '%s = %s\n' % kv for kv in SCRIPTS.items())
    wheel = ('Wheel-Version: 1.0\nGenerator: pyexec_build\n'
             'Root-Is-Purelib: true\nTag: %s\n' % TAG)
    return di, {di + '/METADATA': _metadata(), di + '/WHEEL': wheel,
                di + '/entry_points.txt': ep}


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def prepare_metadata_for_build_wheel(metadata_directory,
                                     config_settings=None):
    di, files = _dist_info_files()
    for name, text in files.items():
        path = os.path.join(metadata_directory, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'w') as f:
            f.write(text)
    return di


def build_wheel(wheel_directory, config_settings=None,
                metadata_directory=None):
    name = '%s-%s-%s.whl' % (NAME, VERSION, TAG)
    di, meta = _dist_info_files()
    record = []
    stamp = (1980, 1, 1, 0, 0, 0)
    with zipfile.ZipFile(os.path.join(wheel_directory, name), 'w',
                         zipfile.ZIP_DEFLATED) as z:
        def add(arc, data):
            info = zipfile.ZipInfo(arc, stamp)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)
            record.append('%s,%s,%d' % (arc, _digest(data), len(data)))
        for full, arc in _package_files():
            with open(full, 'rb') as f:
                add(arc, f.read())
        for arc, text in meta.items():
            add(arc, text.encode())
        record.append(di + '/RECORD,,')
        info = zipfile.ZipInfo(di + '/RECORD', stamp)
        info.external_attr = 0o644 << 16
        z.writestr(info, '\n'.join(record) + '\n')
    return name


def build_sdist(sdist_directory, config_settings=None):
    base = '%s-%s' % (DIST.replace('-', '_'), VERSION)
    name = base + '.tar.gz'
    with tarfile.open(os.path.join(sdist_directory, name), 'w:gz') as t:
        def add(arc, data):
            ti = tarfile.TarInfo(base + '/' + arc)
            ti.size = len(data)
            ti.mtime = int(time.time())
            ti.mode = 0o644
            t.addfile(ti, io.BytesIO(data))
        for full, arc in _package_files():
            with open(full, 'rb') as f:
                add(arc, f.read())
        for extra in ('pyproject.toml', '_build/pyexec_build.py'):
            with open(os.path.join(ROOT, extra), 'rb') as f:
                add(extra, f.read())
        add('PKG-INFO', _metadata().encode())
    return name
