from __future__ import annotations

from django.apps import AppConfig
from django.core.checks import Tags, register


class SQLMigrateConfig(AppConfig):
    name = "sqlmigrate"
    verbose_name = "SQL migrations"
    default_auto_field = "django.db.models.AutoField"

    def ready(self) -> None:
        from . import checks, testing

        register(checks.check_settings)
        register(checks.check_migrations_folder)
        register(checks.check_databases, Tags.database)
        register(checks.check_lint, Tags.database)
        # Does nothing until a test database is created with SQLMIGRATE_TEST_DATABASES set.
        testing.install()
