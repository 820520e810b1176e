"""The read-only status page in the admin: "SQL migrations > Status".

django-rq's pattern: the unmanaged ``MigrationStatus`` model gives the page a
place in the admin index and a ``view`` permission; this ModelAdmin replaces
every model URL with two GET-only pages. Nothing here writes, locks or waits:
the page reads ``read_status`` (bounded by a statement timeout) and files.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db import DEFAULT_DB_ALIAS, connections
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, re_path, reverse
from django.views.decorators.http import require_safe

from .conf import settings
from .models import MigrationStatus

if TYPE_CHECKING:
    from .source import Direction

    _ModelAdmin = admin.ModelAdmin[MigrationStatus]
else:
    _ModelAdmin = admin.ModelAdmin

View = Callable[..., HttpResponse]

STATUS_TEMPLATE = "admin/sqlmigrate/status.html"
SQL_TEMPLATE = "admin/sqlmigrate/sql.html"


@admin.register(MigrationStatus)
class MigrationStatusAdmin(_ModelAdmin):
    actions = None

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_urls(self) -> list[URLPattern]:
        # Only these two: add/change/delete/history fall through to the
        # admin's catch-all (404 for staff, login for everyone else).
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        return [
            path("", self._wrap(self.status_view), name=f"{prefix}_changelist"),
            # 19 digits hold any bigint version, and keep int() far from
            # Python's limit on converting long digit strings.
            re_path(
                r"^(?P<version>[0-9]{1,19})/(?P<direction>up|down)/$",
                self._wrap(self.sql_view),
                name=f"{prefix}_sql",
            ),
        ]

    def _wrap(self, view: View) -> View:
        # require_safe outside admin_view: a POST is refused as 405 before the
        # CSRF check could answer it with a misleading 403.
        return require_safe(self.admin_site.admin_view(view))

    def _context(self, request: HttpRequest, title: str) -> dict[str, Any]:
        if not self.has_view_permission(request):
            raise PermissionDenied
        return {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": title,
            "status_url": reverse(
                f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist",
                current_app=self.admin_site.name,
            ),
        }

    def status_view(self, request: HttpRequest) -> HttpResponse:
        # Loaded on the first visit, not by admin.autodiscover() in every process.
        from .status import read_status
        from .views import COLUMNS, RowContext, dirty_fix, facts, notices, table_rows

        context = self._context(request, "SQL migration status")
        alias = request.GET.get("database", DEFAULT_DB_ALIAS)
        aliases = list(connections.settings)
        context.update(databases=aliases, database=alias)
        if alias not in aliases:
            known = ", ".join(aliases)
            context["alias_error"] = f"Unknown database alias {alias!r}: DATABASES has {known}."
            return TemplateResponse(request, STATUS_TEMPLATE, context, status=404)
        status = read_status(using=alias)
        rows = RowContext(self._sql_url, database_read=status.database_error is None)
        context.update(
            status=status,
            facts=facts(status),
            fix=dirty_fix(status),
            notices=notices(status),
            columns=COLUMNS,
            rows=table_rows(status, rows),
        )
        return TemplateResponse(request, STATUS_TEMPLATE, context)

    def sql_view(self, request: HttpRequest, version: str, direction: Direction) -> HttpResponse:
        from .views import MAX_SQL_BYTES, find_migration, read_sql_text

        context = self._context(request, "")
        directory = settings.migrations_dir
        migration = find_migration(directory, int(version))
        file = migration.file(direction) if migration else None
        if migration is None or file is None:
            raise Http404(f"no {direction} migration for version {version} in {directory}")
        other: Direction = "down" if direction == "up" else "up"
        context.update(
            title=file.name,
            file=file,
            sql=read_sql_text(file),
            max_bytes=MAX_SQL_BYTES,
            other=migration.file(other),
            other_url=self._sql_url(migration.version, other),
        )
        return TemplateResponse(request, SQL_TEMPLATE, context)

    def _sql_url(self, version: int, direction: Direction) -> str:
        return reverse(
            f"admin:{self.opts.app_label}_{self.opts.model_name}_sql",
            kwargs={"version": str(version), "direction": direction},
            current_app=self.admin_site.name,
        )
