"""Model fields matching the seed's column types exactly."""

from datetime import UTC

from django.db import models
from django.db.models import Func


class CurrentTimestamp(Func):
    """SQL's CURRENT_TIMESTAMP, as the seed's defaults say (Django's Now() renders STATEMENT_TIMESTAMP())."""

    template = "CURRENT_TIMESTAMP"
    output_field = models.DateTimeField()


class UTCTimestampField(models.DateTimeField):
    """A `TIMESTAMP` (without time zone) column holding UTC wall-clock time.

    Django sets every connection's TimeZone to UTC, so aware datetimes are written as UTC; values read back are
    naive and are marked UTC here, so the rest of Django sees aware datetimes as with USE_TZ.
    """

    def db_type(self, connection):
        return "timestamp"

    def from_db_value(self, value, expression, connection):
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value

    def get_db_prep_value(self, value, connection, prepared=False):
        value = super().get_db_prep_value(value, connection, prepared)
        if value is not None and getattr(value, "tzinfo", None) is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value
