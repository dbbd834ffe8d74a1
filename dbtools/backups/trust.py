"""What pgdeck believes about a backup file, and from where: the backups row first, else a signed manifest.

The `.sha256` sidecar and an unsigned manifest are conveniences for humans (`sha256sum -c`); they sit next to the
file, so whoever can swap the file can rewrite them too. pgdeck never trusts them: the checksum, format and
encryption flag come from the `backups` row, or — for a file without a row (another machine, a deleted row) —
from a manifest whose HMAC (keyed with SECRET_KEY, which never sits beside the backups) still matches. A file
whose bytes differ from that checksum is refused before any tool reads a byte of it.
"""

import hashlib
import hmac
import json
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils.crypto import salted_hmac

from dbtools.backups import crypto, files
from dbtools.backups.errors import BackupError
from dbtools.models import Backup

SIGNATURE = "signature"
_SALT = "pgdeck.backups.manifest"


def _digest(manifest):
    body = json.dumps({k: v for k, v in manifest.items() if k != SIGNATURE}, sort_keys=True, separators=(",", ":"))
    return salted_hmac(_SALT, body, secret=settings.SECRET_KEY, algorithm="sha256").hexdigest()


def sign(manifest):
    return {**manifest, SIGNATURE: _digest(manifest)}


def signed_manifest(path):
    """The manifest if its signature holds, else None (missing, altered, or signed with another SECRET_KEY)."""
    try:
        manifest = files.read_manifest(path)
    except BackupError:
        return None
    claimed = manifest.get(SIGNATURE)
    if not isinstance(claimed, str) or not hmac.compare_digest(claimed, _digest(manifest)):
        return None
    return manifest


@dataclass(frozen=True)
class Facts:
    checksum: str
    fmt: str
    encrypted: bool
    tables: dict | None  # the snapshot (name → rows); None for a foreign dump
    pg_dump_major: int
    origin: str  # "row", "manifest" or "foreign"
    excluded: tuple = ()  # tables whose rows the backup left out (a non-admin's): a restore keeps the target's
    extensions: tuple | None = None  # the source database's; None: unknown (the live database's are used)


def _tuple(value):
    return tuple(value) if isinstance(value, list) else None


def row_for(path):
    return Backup.objects.filter(file=str(path), status="success").first()


def facts_for(path, backup=None, *, foreign=False):
    """Facts about `path`: from its backups row, else its signed manifest, else (only with `foreign`) its bytes."""
    path = Path(path)
    backup = backup if backup is not None and backup.status == "success" else row_for(path)
    if backup is not None:
        snapshot = backup.snapshot or {}
        return Facts(backup.checksum, backup.format, backup.encrypted, snapshot.get("tables"),
                     snapshot.get("pg_dump_major") or 0, "row", tuple(snapshot.get("excluded_data") or ()),
                     _tuple(snapshot.get("extensions")))
    manifest = signed_manifest(path)
    if manifest is not None:
        return Facts(manifest["checksum"], manifest["format"], bool(manifest.get("encrypted")),
                     manifest.get("tables"), manifest.get("pg_dump_major") or 0, "manifest",
                     tuple(manifest.get("excluded_data") or ()), _tuple(manifest.get("extensions")))
    if not foreign:
        raise BackupError(f"{path.name} has no backups row and no manifest signed by this pgdeck, so nothing "
                          "says what it should contain; a dump made elsewhere restores only with "
                          "dbrestore --foreign", code="untrusted_file")
    if crypto.is_encrypted(path):
        raise BackupError(f"{path.name} is a pgdeck encrypted backup without its row or signed manifest: "
                          "its format is unknown", code="untrusted_file")
    return Facts(files.checksum(path), files.detect_format(path), False, None, 0, "foreign")


def open_checked(path, facts):
    """The backup opened for reading, its bytes proven to match `facts.checksum` through this very handle (so a
    file swapped after the check is not the one read). A directory backup is checked by path and returned as is."""
    path = Path(path)
    if path.is_dir():
        if facts.fmt != "directory":
            raise _mismatch(path, facts.checksum, "a directory")
        _compare(path, facts.checksum, files.directory_checksum(path))
        return None
    handle = open(path, "rb")  # noqa: SIM115 - returned to the caller, who closes it
    try:
        digest = hashlib.sha256()
        while chunk := handle.read(files.READ_CHUNK):
            digest.update(chunk)
        _compare(path, facts.checksum, digest.hexdigest())
        handle.seek(0)
    except BaseException:
        handle.close()
        raise
    return handle


def _compare(path, expected, actual):
    if not expected or not hmac.compare_digest(expected, actual):
        raise _mismatch(path, expected, actual[:12] + "…")


def _mismatch(path, expected, actual):
    return BackupError(f"checksum mismatch for {Path(path).name}: it is not the file that was backed up "
                       f"(recorded {(expected or 'nothing')[:12]}…, found {actual}); refused before reading it",
                       code="checksum_mismatch", status=409)
