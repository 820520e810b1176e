"""Django's test runner gets the SQL schema: ``python manage.py test realstaging.api``.

With ``--settings realstaging.settings_test`` (SQLMIGRATE_TEST_DATABASES =
["default"]) the test database is created, Django migrates it, then sqlmigrate
applies infra/migrations to it; ``--parallel`` clones carry the result. Two
test classes, so that ``--parallel 2`` really runs two clones.
"""

from __future__ import annotations

from django.db import connection
from django.test import TestCase

from realstaging.api.models import Plan
from sqlmigrate.conf import settings
from sqlmigrate.source import load_source
from sqlmigrate.status import read_status

#: what infra/migrations/0011_seed_plans_table.up.sql inserts
SEEDED_PLANS = [
    ("free", "price_1SKJ8mLkQ5x1VWxdP1dtxKK3", 10),
    ("pro", "price_1SK67rLpUWppqPSl2XfvuIlh", 100),
    ("business", "price_1SJOMjLkQ5x1VWxdUYOkNqI4", 500),
]


class SeededPlansTests(TestCase):
    def test_the_seed_file_filled_the_plans_table(self) -> None:
        plans = Plan.objects.order_by("monthly_limit")
        rows = [(plan.code, plan.price_id, plan.monthly_limit) for plan in plans]
        assert rows == SEEDED_PLANS

    def test_the_unmanaged_model_writes_through_the_sql_defaults(self) -> None:
        plan = Plan.objects.create(code="team", price_id="price_team2000", monthly_limit=2000)
        plan.refresh_from_db()
        assert plan.is_active is True
        assert plan.created_at is not None


class SchemaVersionTests(TestCase):
    def test_the_test_database_is_at_the_last_file(self) -> None:
        last = load_source(settings.migrations_dir).last()
        assert last is not None
        status = read_status()
        assert (status.version, status.dirty, status.pending) == (last.version, False, 0)

    def test_it_is_a_test_database(self) -> None:
        assert connection.settings_dict["NAME"].startswith("test_")
