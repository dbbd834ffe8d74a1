"""Targets from a file (PGDECK_TARGETS_FILE, TOML or YAML) for infrastructure as code; read-only in the admin.

    [targets.analytics]                     # YAML: targets: {analytics: {host: …, …}}
    host = "analytics.db.internal"
    port = 5432
    dbname = "analytics"
    user = "pgdeck_reader"
    password_env = "ANALYTICS_DB_PASSWORD"  # or password = "…" (kept encrypted in the database)
    sslmode = "verify-full"
    sslrootcert = "/etc/ssl/certs/db-root.crt"
    environment = "production"
    notes = "BI replica"
    grants = { query = ["analyst"], monitor = ["operator", "viewer"] }

Loading replaces every file target with the file's (one transaction: a bad file changes nothing) and never
touches targets added in the admin; a name used by one of those is an error.
"""

import logging
import tomllib
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import DatabaseError, connection, transaction

from config.env import env
from core.audit import audit_record
from targets.errors import TargetError, TargetInvalid
from targets.models import CAPABILITIES, DEFAULT, Target, TargetGrant
from targets.services import EDITABLE, validated

logger = logging.getLogger("pgdeck.targets")
KEYS = set(EDITABLE) | {"password", "password_env", "grants"}


def read_file(path):
    """{name: {field: value}} from a TOML (.toml) or YAML (.yaml/.yml) file; TargetInvalid (one line) if bad."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise TargetInvalid(f"cannot read targets file {path}: {exc.strerror}") from None
    try:
        if path.suffix in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(text) or {}
        else:
            data = tomllib.loads(text)
    except Exception as exc:  # tomllib.TOMLDecodeError, yaml.YAMLError: both one line enough
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
        raise TargetInvalid(f"targets file {path} is not valid {path.suffix.lstrip('.') or 'TOML'}: {reason}") \
            from None
    targets = data.get("targets") if isinstance(data, dict) else None
    if not isinstance(targets, dict) or set(data) - {"targets"}:
        raise TargetInvalid(f"targets file {path}: expected one table 'targets' of named targets")
    return targets


def _entry(path, name, entry):
    where = f"targets file {path}: target {name!r}"
    if not isinstance(entry, dict):
        raise TargetInvalid(f"{where}: expected a table of settings")
    unknown = set(entry) - KEYS
    if unknown:
        raise TargetInvalid(f"{where}: unknown key(s) {', '.join(sorted(unknown))} (known: {', '.join(sorted(KEYS))})")
    fields = {key: entry[key] for key in EDITABLE if key in entry}
    password = entry.get("password", "")
    if "password_env" in entry:
        password = env(str(entry["password_env"]), default=None)
        if password is None:
            raise TargetInvalid(f"{where}: environment variable {entry['password_env']} is not set")
    return fields, str(password or ""), _grants(where, entry.get("grants", {}))


def _grants(where, grants):
    names = {name for name, _ in CAPABILITIES}
    if not isinstance(grants, dict) or set(grants) - names:
        raise TargetInvalid(f"{where}: grants must map capabilities ({', '.join(sorted(names))}) to group lists")
    pairs = []
    for capability, groups in grants.items():
        if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
            raise TargetInvalid(f"{where}: grants.{capability} must be a list of group names")
        for group in groups:
            found = Group.objects.filter(name=group).first()
            if found is None:
                raise TargetInvalid(f"{where}: grants.{capability}: no group named {group!r}")
            pairs.append((found, capability))
    return pairs


def targets_load_file(path=None):
    """Load PGDECK_TARGETS_FILE (or `path`); returns the names loaded. Raises TargetInvalid, changing nothing."""
    path = path or settings.TARGETS_FILE
    if not path:
        return []
    entries = read_file(path)
    with transaction.atomic():
        with connection.cursor() as cursor:  # several workers start at once: one loads at a time
            cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended('pgdeck-targets-file', 0))")
        Target.objects.filter(source="file").exclude(name__in=list(entries)).delete()
        for name, entry in entries.items():
            _load_one(path, str(name), entry)
        audit_record("targets.load_file", actor="targets file", target=str(path)[:255], names=sorted(entries))
    return sorted(entries)


def _load_one(path, name, entry):
    fields, password, grants = _entry(path, name, entry)
    if name == DEFAULT:
        raise TargetInvalid(f"targets file {path}: 'default' is the app's own database and cannot be defined")
    target = Target.objects.filter(name=name).first()
    if target is not None and target.source != "file":
        raise TargetInvalid(f"targets file {path}: target {name!r} already exists (added in the admin)")
    target = target or Target(name=name, source="file")
    for key in EDITABLE:
        setattr(target, key, fields.get(key, Target._meta.get_field(key).get_default()))
    target.password = password
    try:
        validated(target)
    except TargetInvalid as exc:
        raise TargetInvalid(f"targets file {path}: target {name!r}: {exc.message}") from None
    target.save()
    TargetGrant.objects.filter(target=target).delete()
    TargetGrant.objects.bulk_create([TargetGrant(target=target, group=g, capability=c) for g, c in grants])


def load_at_startup(**_signal_kwargs):
    """Load the file when the app starts (WSGI/ASGI) and after `migrate`; a bad file is one log line, and the
    targets loaded before stay as they were."""
    if not settings.TARGETS_FILE:
        return
    try:
        names = targets_load_file()
    except (TargetError, DatabaseError) as exc:
        logger.error("targets file not loaded: %s", getattr(exc, "message", None) or str(exc).splitlines()[0])
        return
    logger.info("targets file %s: loaded %s", settings.TARGETS_FILE, ", ".join(names) or "no targets")
