"""Admin pages for the API's tables.

Foreign keys use raw_id_fields: a select box would load every user or
project on each page, which stops working once the tables grow.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin

from .models import AppUser, Plan, Project, StagingJob, Subscription, UploadedImage

if TYPE_CHECKING:
    _ModelAdmin = admin.ModelAdmin
else:
    # django-stubs declares ModelAdmin generic, but Django's own class cannot be
    # subscripted at runtime; this lets ``_ModelAdmin[Plan]`` work in both worlds
    # without django-stubs-ext (a dev-only dependency) in production.
    class _ModelAdmin(admin.ModelAdmin):
        def __class_getitem__(cls, model: Any) -> type[admin.ModelAdmin]:
            return cls


@admin.register(AppUser)
class AppUserAdmin(_ModelAdmin[AppUser]):
    list_display = ["email", "display_name", "created_at"]
    search_fields = ["email", "display_name"]
    ordering = ["-created_at"]
    readonly_fields = ["id", "created_at", "updated_at"]


@admin.register(Plan)
class PlanAdmin(_ModelAdmin[Plan]):
    list_display = ["code", "price_id", "monthly_limit", "is_active"]
    list_filter = ["is_active"]
    ordering = ["monthly_limit"]
    readonly_fields = ["created_at", "updated_at"]


@admin.register(Project)
class ProjectAdmin(_ModelAdmin[Project]):
    list_display = ["name", "user", "created_at"]
    list_select_related = ["user"]
    search_fields = ["name", "user__email"]
    ordering = ["-created_at"]
    raw_id_fields = ["user"]
    readonly_fields = ["id", "created_at", "updated_at"]


@admin.register(UploadedImage)
class UploadedImageAdmin(_ModelAdmin[UploadedImage]):
    list_display = ["storage_key", "project", "content_type", "width", "height", "created_at"]
    list_select_related = ["project"]
    ordering = ["-created_at"]
    raw_id_fields = ["project"]
    readonly_fields = ["id", "created_at"]


@admin.register(StagingJob)
class StagingJobAdmin(_ModelAdmin[StagingJob]):
    list_display = ["id", "project", "status", "room_type", "style", "created_at", "completed_at"]
    list_filter = ["status", "room_type"]
    list_select_related = ["project"]
    ordering = ["-created_at"]
    raw_id_fields = ["project", "uploaded_image"]
    readonly_fields = ["id", "created_at"]


@admin.register(Subscription)
class SubscriptionAdmin(_ModelAdmin[Subscription]):
    list_display = ["user", "plan", "status", "current_period_end"]
    list_filter = ["status", "plan"]
    list_select_related = ["user", "plan"]
    ordering = ["-current_period_end"]
    raw_id_fields = ["user"]
    readonly_fields = ["id", "created_at", "updated_at"]
