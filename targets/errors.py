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
    """The target cannot be reached or used right now; the message is one line (host, reason)."""

    code = "target_unavailable"
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
