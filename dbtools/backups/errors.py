class BackupError(Exception):
    """A one-line, user-facing reason a backup, restore or verify could not be done.

    `code` and `status` are what the API answers with (400 `backup_error` unless the cause says otherwise).
    """

    def __init__(self, message, *, code="backup_error", status=400):
        super().__init__(message)
        self.code, self.status = code, status
