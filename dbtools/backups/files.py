"""Backup files on disk: names, the temporary name, checksums, the .sha256 sidecar and the JSON manifest.

A backup is complete only once it has its final name; until then it is `<name>.partial`. The sidecar is in
`sha256sum` format (so `sha256sum -c` works) and the manifest carries the snapshot, so verify and restore work
from the files alone.
"""

import hashlib
import json
import os
import shutil
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from dbtools.backups.errors import BackupError

EXTENSIONS = {"custom": ".dump", "plain": ".sql", "directory": ".dir"}
PARTIAL = ".partial"
READ_CHUNK = 1 << 20
# Backups hold password hashes and sessions: owner-only, whatever the process umask says.
FILE_MODE, DIR_MODE = 0o600, 0o700


def backup_dir():
    path = Path(settings.BACKUP_DIR)
    path.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    path.chmod(DIR_MODE)
    return path


def private_open(path):
    """A new file opened for writing with mode 0600 (set explicitly: os.open's mode is filtered by the umask)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    os.fchmod(fd, FILE_MODE)
    return os.fdopen(fd, "wb")


def seal_modes(path):
    """0700 for a directory backup and its folders, 0600 for every file in it (pg_dump's own follow the umask)."""
    path = Path(path)
    if path.is_dir():
        path.chmod(DIR_MODE)
        for item in path.rglob("*"):
            item.chmod(DIR_MODE if item.is_dir() else FILE_MODE)
    else:
        path.chmod(FILE_MODE)


def final_path(dbname, fmt, encrypted, output=None):
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S-%f")
    name = f"pgdeck-{dbname}-{stamp}{EXTENSIONS[fmt]}{'.enc' if encrypted else ''}"
    if output:
        path = Path(output).expanduser().resolve()
        path = path / name if path.is_dir() else path
    else:
        path = backup_dir() / name
    if path.exists():
        raise BackupError(f"{path} already exists; choose another --output")
    if not path.parent.is_dir():
        raise BackupError(f"cannot write {path}: folder {path.parent} does not exist")
    return path


def partial_path(path):
    return path.with_name(path.name + PARTIAL)


def sidecar_path(path):
    return Path(str(path) + ".sha256")


def manifest_path(path):
    return Path(str(path) + ".manifest.json")


def directory_checksum(path):
    """SHA-256 over each file's relative name and digest, in name order (a directory has no single byte stream)."""
    outer = hashlib.sha256()
    for item in sorted(p for p in Path(path).rglob("*") if p.is_file()):
        outer.update(f"{item.relative_to(path)}\0{file_checksum(item)}\n".encode())
    return outer.hexdigest()


def file_checksum(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(READ_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def checksum(path):
    return directory_checksum(path) if Path(path).is_dir() else file_checksum(path)


def disk_size(path):
    path = Path(path)
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size if path.exists() else 0


def write_sidecars(path, digest, manifest):
    """Write `<path>.sha256` and `<path>.manifest.json` (each through a temporary name)."""
    for target, text in ((sidecar_path(path), f"{digest}  {path.name}\n"),
                         (manifest_path(path), json.dumps(manifest, indent=2, sort_keys=True) + "\n")):
        tmp = partial_path(target)
        with private_open(tmp) as handle:
            handle.write(text.encode())
        tmp.replace(target)


def read_manifest(path):
    try:
        return json.loads(manifest_path(path).read_text())
    except FileNotFoundError:
        return {}
    except ValueError:
        raise BackupError(f"{manifest_path(path)} is not valid JSON") from None


def recorded_checksum(path):
    try:
        text = sidecar_path(path).read_text().split()
    except FileNotFoundError:
        return ""
    return text[0] if text else ""


def detect_format(path):
    path = Path(path)
    if path.is_dir():
        return "directory"
    with open(path, "rb") as handle:
        head = handle.read(8)
    return "custom" if head.startswith(b"PGDMP") else "plain"


def remove_backup_files(path):
    """Delete a backup and its companions; missing pieces are fine."""
    path = Path(path)
    for item in (path, partial_path(path), sidecar_path(path), manifest_path(path)):
        if item.is_dir():
            shutil.rmtree(item, ignore_errors=True)
        elif item.exists():
            item.unlink()
