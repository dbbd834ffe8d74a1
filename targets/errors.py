"""Errors of the targets app; each carries an API code and status so every screen can show one line."""


class TargetError(Exception):
    code = "target_error"
    status = 400

    def __init__(self, message):
        super().__init__(message)
        self.message = message


class TargetNotFound(TargetError):
    code = "target_not_found"
    status = 404

    def __init__(self, name):
        super().__init__(f"no target named {name!r}")
        self.name = name


class TargetForbidden(TargetError):
    code = "target_forbidden"
    status = 403


class TargetUnavailable(TargetError):
    """The target cannot be reached or used right now; the message is one line (host, reason).

    424 (Failed Dependency) on every endpoint, the tools' and this app's alike: the upstream the client named
    failed. 503 stays the answer for pgdeck's own database being down (config/middleware.py)."""

    code = "target_unavailable"
    status = 424


class TargetKeysMissing(TargetUnavailable):
    """PGDECK_TARGETS_KEYS is unset or malformed: pgdeck's own configuration, not the target, is at fault (503
    from the targets API; a tool using such a target still answers 424 target_unavailable)."""

    code = "targets_keys_missing"
    status = 503


class TargetInvalid(TargetError):
    code = "invalid_target"
    status = 400


class TargetConflict(TargetError):
    """The name is taken (by another target, or "default" by the app's own database)."""

    code = "conflict"
    status = 409


class TargetReadOnly(TargetError):
    """"default" (settings) and file targets (PGDECK_TARGETS_FILE) cannot be changed here."""

    code = "target_read_only"
    status = 409


class TargetDuplicate(TargetError):
    """The target is the same database (server + database, as the server says) as another target."""

    code = "target_duplicate"
    status = 409
