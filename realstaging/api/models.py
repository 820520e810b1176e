"""Unmanaged models over the tables created by infra/migrations.

``managed = False``: Django never creates or alters these tables; the SQL
files own the schema, and these classes must follow them column by column.
Database defaults (ids aside) are declared as ``db_default`` so inserts leave
them to PostgreSQL and read the values back with RETURNING.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models.functions import Now


class AppUser(models.Model):
    """A customer of the API (table ``users``); admin logins are auth.User."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # The table refuses mixed case (users_email_lowercase); callers lower-case first.
    email = models.EmailField(unique=True)
    display_name = models.CharField(blank=True, default="")
    created_at = models.DateTimeField(db_default=Now(), editable=False)
    updated_at = models.DateTimeField(db_default=Now(), editable=False)

    class Meta:
        managed = False
        db_table = "users"
        verbose_name = "user"

    def __str__(self) -> str:
        return self.email


class Plan(models.Model):
    id = models.BigAutoField(primary_key=True)
    code = models.CharField(unique=True)
    #: the Stripe Price subscribers pay (``price_...``); amounts live in Stripe
    price_id = models.CharField(unique=True)
    #: images a subscriber may stage per billing period
    monthly_limit = models.PositiveIntegerField()
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(db_default=Now(), editable=False)
    updated_at = models.DateTimeField(db_default=Now(), editable=False)

    class Meta:
        managed = False
        db_table = "plans"

    def __str__(self) -> str:
        return self.code


class Project(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(AppUser, on_delete=models.CASCADE, related_name="projects")
    name = models.CharField()
    address = models.CharField(blank=True, default="")
    created_at = models.DateTimeField(db_default=Now(), editable=False)
    updated_at = models.DateTimeField(db_default=Now(), editable=False)

    class Meta:
        managed = False
        db_table = "projects"

    def __str__(self) -> str:
        return self.name


class UploadedImage(models.Model):
    class ContentType(models.TextChoices):
        JPEG = "image/jpeg", "JPEG"
        PNG = "image/png", "PNG"
        WEBP = "image/webp", "WebP"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="images")
    storage_key = models.CharField(unique=True)
    content_type = models.CharField(choices=ContentType.choices)
    byte_size = models.PositiveBigIntegerField()
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    created_at = models.DateTimeField(db_default=Now(), editable=False)

    class Meta:
        managed = False
        db_table = "uploaded_images"

    def __str__(self) -> str:
        return self.storage_key


class StagingJob(models.Model):
    class Status(models.TextChoices):
        """The PostgreSQL enum ``staging_job_status``, value for value."""

        QUEUED = "queued"
        PROCESSING = "processing"
        COMPLETED = "completed"
        FAILED = "failed"
        CANCELLED = "cancelled"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="staging_jobs")
    uploaded_image = models.ForeignKey(
        UploadedImage, on_delete=models.CASCADE, related_name="staging_jobs"
    )
    room_type = models.CharField()
    style = models.CharField()
    status = models.CharField(choices=Status.choices, default=Status.QUEUED)
    # NULL, not "", until there is a result or an error: the table's CHECKs test IS NOT NULL.
    result_storage_key = models.CharField(null=True, blank=True)  # noqa: DJ001
    error_message = models.TextField(null=True, blank=True)  # noqa: DJ001
    created_at = models.DateTimeField(db_default=Now(), editable=False)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        managed = False
        db_table = "staging_jobs"

    def __str__(self) -> str:
        return f"{self.room_type} / {self.style} ({self.status})"


class Subscription(models.Model):
    class Status(models.TextChoices):
        TRIALING = "trialing"
        ACTIVE = "active"
        PAST_DUE = "past_due"
        CANCELLED = "cancelled"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(AppUser, on_delete=models.CASCADE, related_name="subscriptions")
    # PROTECT mirrors the table's ON DELETE RESTRICT.
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="subscriptions")
    status = models.CharField(choices=Status.choices, default=Status.ACTIVE)
    current_period_start = models.DateTimeField()
    current_period_end = models.DateTimeField()
    cancelled_at = models.DateTimeField(null=True, blank=True)
    # NULL, not "": the column is UNIQUE and free plans have no provider id.
    external_id = models.CharField(null=True, blank=True, unique=True)
    created_at = models.DateTimeField(db_default=Now(), editable=False)
    updated_at = models.DateTimeField(db_default=Now(), editable=False)

    class Meta:
        managed = False
        db_table = "subscriptions"

    def __str__(self) -> str:
        return f"{self.user_id} on {self.plan_id} ({self.status})"
