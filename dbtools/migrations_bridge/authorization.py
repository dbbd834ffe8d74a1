"""The one authorization of a migration move, for the admin screen, the API and `manage.py alembic` alike.

- a person (admin screen, API) needs dbtools.apply_migrations; the command line is the database owner's shell;
- a downgrade that drops tables or columns holding rows also needs an admin, a backup verified OK that finished
  within MIGRATION_DOWNGRADE_BACKUP_MAX_AGE_MINUTES, and a confirmation: the typed phrase with the row count
  (admin/API) or `--yes` (command line).
"""

from django.conf import settings

from accounts.roles import ADMIN
from dbtools.migrations_bridge.data_loss import downgrade_data_loss, recent_verified_backup
from dbtools.migrations_bridge.services import BridgeError

APPLY_PERM = "dbtools.apply_migrations"
YES = object()  # `manage.py alembic downgrade --yes`


def is_admin(actor):
    return actor is None or actor.is_superuser or getattr(actor, "role", "") == ADMIN


def migrations_authorize(action, revision, *, using="default", actor=None, confirmation=None):
    """Refuse (BridgeError with an API code) or return the DataLoss of the move (None for an upgrade).
    `actor` None is the command line."""
    if actor is not None and not (actor.is_active and actor.has_perm(APPLY_PERM)):
        raise BridgeError("moving migrations needs the permission dbtools.apply_migrations", "permission_denied")
    if action != "downgrade":
        return None
    loss = downgrade_data_loss(revision, using)
    if not loss.total:
        return loss
    drops = f"downgrading to {revision} drops {loss.describe()}"
    if not is_admin(actor):
        raise BridgeError(f"{drops}: only an admin may drop tables or columns that hold rows; nothing was changed",
                          "admin_required")
    if recent_verified_backup() is None:
        minutes = settings.MIGRATION_DOWNGRADE_BACKUP_MAX_AGE_MINUTES
        raise BridgeError(f"{drops}: that needs a backup verified OK in the last {minutes} minutes and there is "
                          "none (take one and verify it first); nothing was changed", "backup_required")
    if not (confirmation is YES or (isinstance(confirmation, str) and confirmation.strip() == loss.phrase)):
        how = "pass --yes" if actor is None else f"type “{loss.phrase}” to confirm"
        raise BridgeError(f"{drops}: {how}; nothing was changed", "confirmation_required")
    return loss
