"""Database routing: the ORM reads and writes the primary; only named read paths use the `replica` alias.

Sessions, auth and audit rows must see their own writes at once, so a general "reads go to the replica" rule
would be wrong here. The query editor (read mode), exports and monitoring ask for `read_alias()` explicitly.
"""

from django.conf import settings


def read_alias():
    return "replica" if "replica" in settings.DATABASES else "default"


class PrimaryReplicaRouter:
    def db_for_read(self, model, **hints):
        return "default"

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == "default"
