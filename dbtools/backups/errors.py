class BackupError(Exception):
    """A one-line, user-facing reason a backup, restore or verify could not be done."""
