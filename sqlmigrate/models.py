"""The placeholder model that puts the status page in the admin.

No table: ``managed = False`` and nothing ever queries it. It exists so the
admin index can list "SQL migrations > Status" and so ``auth`` creates a
``view`` permission that grants the page (django-rq's pattern). The app needs
no Django migration for that: ``migrate`` creates content types and
permissions for apps without migrations too (they are "real apps" of the
migration state), so none is shipped.
"""

from __future__ import annotations

from django.db import models


class MigrationStatus(models.Model):
    class Meta:
        managed = False
        # Only "view": the page is read-only, and a "change" permission would
        # suggest otherwise in the user and group editors.
        default_permissions = ("view",)
        verbose_name = "status"
        verbose_name_plural = "status"

    def __str__(self) -> str:
        return "SQL migration status"
