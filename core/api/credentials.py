"""What an API authentication puts in `request.auth` when the credential itself limits the request (an API
key's scopes). core cannot import accounts, so accounts' ApiKey subclasses this and the toolkit checks it."""


class ScopedCredential:
    """A credential with its own scope on top of the user's role; `pk` identifies it for rate limits."""

    def allows(self, perm):  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    def allows_target(self, name):
        """The credential may be used on the database target `name` (default: every target)."""
        return True
