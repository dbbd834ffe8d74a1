"""Streamed downloads: a file as it is on disk, a directory backup as a tar built on the fly (nothing buffered)."""

import tarfile
from pathlib import Path

from django.http import FileResponse, StreamingHttpResponse

from core.audit import audit_record
from core.authorization import require_permission
from dbtools.backups import trust
from dbtools.backups.errors import BackupError
from dbtools.backups.services import is_admin

CHUNK = 1 << 20


def _tar_stream(folder):
    for item in sorted(p for p in folder.rglob("*") if p.is_file()):
        info = tarfile.TarInfo(f"{folder.name}/{item.relative_to(folder)}")
        stat = item.stat()
        info.size, info.mtime, info.mode = stat.st_size, int(stat.st_mtime), 0o644
        yield info.tobuf(format=tarfile.PAX_FORMAT)
        with open(item, "rb") as handle:
            while chunk := handle.read(CHUNK):
                yield chunk
        yield b"\0" * ((512 - stat.st_size % 512) % 512)
    yield b"\0" * 1024


def holds_private_data(backup):
    """Readable private rows (sessions, password and key hashes, audit): an unencrypted backup made by an admin."""
    snapshot = backup.snapshot or {}
    return not backup.encrypted and snapshot.get("private_data", not snapshot.get("excluded_data"))


def download_response(backup, *, actor, request=None):
    require_permission(actor, "dbtools.manage_backups")
    path = Path(backup.file)
    if backup.status != "success" or not path.exists():
        raise BackupError(f"backup #{backup.pk} has no file to download ({backup.status})", code="not_available",
                          status=409)
    if holds_private_data(backup) and not is_admin(actor):
        raise BackupError(f"backup #{backup.pk} is unencrypted and holds private data (sessions, password and key "
                          "hashes): only an admin may download it", code="private_data", status=403)
    handle = trust.open_checked(path, trust.facts_for(path, backup))  # the bytes served are the ones recorded
    audit_record("backup.download", actor=actor, request=request, target=backup.file, result="success")
    if handle is None:
        response = StreamingHttpResponse(_tar_stream(path), content_type="application/x-tar")
        response["Content-Disposition"] = f'attachment; filename="{path.name}.tar"'
        return response
    return FileResponse(handle, as_attachment=True, filename=path.name, content_type="application/octet-stream")
