"""Reads for backups."""

from dbtools.backups.cli import human_size
from dbtools.models import Backup


def backup_list(limit=100, offset=0):
    return Backup.objects.select_related("user").order_by("-started_at", "-pk")[offset:offset + limit]


def backup_get(pk):
    return Backup.objects.select_related("user").filter(pk=pk).first()


def backup_status(backup):
    """The small dict the status endpoint and the API serve."""
    return {
        "id": backup.pk, "file": backup.file, "format": backup.format, "status": backup.status,
        "size": backup.size, "progress_bytes": backup.progress_bytes,
        "progress": human_size(backup.size if backup.status == "success" else backup.progress_bytes),
        "checksum": backup.checksum, "encrypted": backup.encrypted,
        "started_at": backup.started_at.isoformat() if backup.started_at else None,
        "finished_at": backup.finished_at.isoformat() if backup.finished_at else None,
        "user": backup.user.username if backup.user_id else None, "error": backup.error,
        "verified_at": backup.verified_at.isoformat() if backup.verified_at else None,
        "verify_ok": backup.verify_ok, "verify_result": backup.verify_result,
        "tables": (backup.snapshot or {}).get("tables"), "target": backup.target,
    }
