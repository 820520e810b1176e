from __future__ import annotations

from django.apps import AppConfig


class SQLMigrateConfig(AppConfig):
    name = "sqlmigrate"
    verbose_name = "SQL migrations"
    default_auto_field = "django.db.models.AutoField"
