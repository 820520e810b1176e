from __future__ import annotations

from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "realstaging.api"
    label = "api"
    verbose_name = "Real Staging API"
    default_auto_field = "django.db.models.BigAutoField"
