from django.urls import path

from dbtools.migrations_bridge import api

urlpatterns = [
    path("migrations", api.MigrationsStateView.as_view(), name="api-migrations"),
    path("migrations/alembic", api.AlembicTargetView.as_view(), name="api-migrations-alembic"),
    path("migrations/upgrade", api.MigrationsUpgradeView.as_view(), name="api-migrations-upgrade"),
    path("migrations/downgrade", api.MigrationsDowngradeView.as_view(), name="api-migrations-downgrade"),
]
