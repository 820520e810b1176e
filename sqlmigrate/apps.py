from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.core.checks import CheckMessage, Tags, register


class SQLMigrateConfig(AppConfig):
    name = "sqlmigrate"
    verbose_name = "SQL migrations"
    default_auto_field = "django.db.models.AutoField"

    def ready(self) -> None:
        # Thin wrappers: sqlmigrate.checks (and the source, backend and status
        # modules it needs) loads when checks run, not in every process that
        # calls django.setup(); a deploy's sqlmigrate_up runs no checks.
        register(check_settings)
        register(check_migrations_folder)
        register(check_databases, Tags.database)
        register(check_lint, Tags.database)
        from . import testing

        # Does nothing until a test database is created with SQLMIGRATE_TEST_DATABASES set.
        testing.install()


def check_settings(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    from . import checks

    return checks.check_settings(app_configs, **kwargs)


def check_migrations_folder(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    from . import checks

    return checks.check_migrations_folder(app_configs, **kwargs)


def check_databases(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    from . import checks

    return checks.check_databases(app_configs, **kwargs)


def check_lint(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    from . import checks

    return checks.check_lint(app_configs, **kwargs)
