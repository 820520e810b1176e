"""render.yaml's pre-deploy command, run as Render runs it, on an empty database."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
import pytest
import yaml

from .conftest import REPO

pytestmark = pytest.mark.slow

#: run in the deployed project's settings: log into the admin with Django's test client
LOGIN = """
from django.contrib.auth.models import User
from django.test import Client

User.objects.create_superuser("ops", "ops@example.com", "deploy-test-password")
client = Client(HTTP_HOST="localhost")
page = client.post(
    "/admin/login/?next=/admin/",
    {"username": "ops", "password": "deploy-test-password", "next": "/admin/"},
    follow=True,
)
print(page.status_code, page.redirect_chain[-1][0], "Site administration" in page.text)
status = client.get("/admin/sqlmigrate/migrationstatus/")
print(status.status_code, 'id="version-11"' in status.text)
plans = client.get("/admin/api/plan/")
print(plans.status_code, "price_1SKJ8mLkQ5x1VWxdP1dtxKK3" in plans.text)
"""


def render_service() -> dict[str, Any]:
    blueprint = yaml.safe_load((REPO / "render.yaml").read_text())
    (service,) = [s for s in blueprint["services"] if s["name"] == "realstaging-api"]
    return dict(service)


def server_url(database: str) -> str:
    url = urlsplit(os.environ["TEST_DATABASE_URL"])
    return url._replace(path=f"/{database}").geturl()


@pytest.fixture
def empty_database() -> Iterator[str]:
    name = f"deploy_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server_url("postgres"), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield server_url(name)
    with psycopg.connect(server_url("postgres"), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def deploy_environment(url: str) -> dict[str, str]:
    """Render's environment for the service, as far as a test machine can have it."""
    environment = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    environment.pop("DJANGO_SETTINGS_MODULE", None)
    for variable in render_service()["envVars"]:
        if "value" in variable:
            environment[variable["key"]] = str(variable["value"])
        elif variable.get("generateValue"):
            environment[variable["key"]] = uuid.uuid4().hex * 2
    environment["DATABASE_URL"] = url  # fromDatabase
    # Production also wants WhiteNoise and HTTPS (the deploy extra, Render's proxy);
    # the commands under test are the same either way.
    environment["REALSTAGING_ENV"] = "development"
    return environment


def test_pre_deploy_runs_django_then_sql_and_stops_on_failure() -> None:
    command = render_service()["preDeployCommand"]
    steps = [step.strip() for step in command.split("&&")]
    assert steps == [
        "python manage.py sqlmigrate_up --wait 60 --dry-run",
        "python manage.py migrate --noinput",
        "python manage.py sqlmigrate_up",
    ]


def test_pre_deploy_on_an_empty_database_then_the_admin_login(empty_database: str) -> None:
    environment = deploy_environment(empty_database)
    command = render_service()["preDeployCommand"]
    deployed = subprocess.run(
        command, shell=True, cwd=REPO, env=environment, capture_output=True, text=True, timeout=180
    )
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    out = deployed.stdout
    assert "would run  0001_create_users_table.up.sql" in out
    assert "dry run: 11 migration(s) checked, nothing changed" in out
    assert "Applying auth.0001_initial... OK" in out
    assert out.index("Applying sessions.0001_initial") < out.index("OK   0001_create_users_table")
    assert "OK   0011_seed_plans_table.up.sql" in out

    login = subprocess.run(
        [sys.executable, "manage.py", "shell", "-v", "0", "-c", LOGIN],
        cwd=REPO, env=environment, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert login.returncode == 0, login.stderr
    assert login.stdout.splitlines() == ["200 /admin/ True", "200 True", "200 True"]


def test_a_failing_step_stops_the_deploy(empty_database: str, tmp_path: Path) -> None:
    """A broken SQL file: the dry run refuses it before Django's tables are made."""
    environment = deploy_environment(empty_database)
    command = render_service()["preDeployCommand"].replace(
        "sqlmigrate_up", f"sqlmigrate_up --path {tmp_path}"
    )
    (tmp_path / "1_broken.up.sql").write_text("SELEC 1;")
    deployed = subprocess.run(
        command, shell=True, cwd=REPO, env=environment, capture_output=True, text=True, timeout=180
    )
    assert deployed.returncode == 1
    assert 'syntax error at or near "SELEC"' in deployed.stderr
    assert "Applying auth" not in deployed.stdout
    with psycopg.connect(empty_database) as check:
        tables = check.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
        assert tables.fetchone() == (0,)
