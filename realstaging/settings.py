"""Settings for the Real Staging AI API.

Everything that differs between a laptop and production comes from the
environment. REALSTAGING_ENV=production turns missing secrets into errors
instead of development defaults.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

PRODUCTION = os.environ.get("REALSTAGING_ENV", "development") == "production"

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _env_bool(name: str, default: bool) -> bool:
    """Read a boolean; a typo such as DJANGO_DEBUG=flase is an error, not False."""
    value = os.environ.get(name)
    if value is None:
        return default
    if value.strip().lower() in _TRUE:
        return True
    if value.strip().lower() in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={value!r}: use 1/0, true/false, yes/no or on/off")


def _env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def _secret_key() -> str:
    key = os.environ.get("DJANGO_SECRET_KEY", "")
    if key:
        return key
    if PRODUCTION:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY is not set")
    return "django-insecure-realstaging-development-only"


def _database_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if url:
        return url
    if PRODUCTION:
        raise ImproperlyConfigured("DATABASE_URL is not set")
    # Imported here: production never needs it, and it starts a server.
    from realstaging.devdb import dev_database_url

    return dev_database_url()


def _allowed_hosts() -> list[str]:
    default = [] if PRODUCTION else ["localhost", "127.0.0.1", "[::1]"]
    hosts = _env_list("DJANGO_ALLOWED_HOSTS", default)
    # Render sets this to the service's own onrender.com name.
    render_host = os.environ.get("RENDER_EXTERNAL_HOSTNAME")
    return [*hosts, render_host] if render_host else hosts


SECRET_KEY = _secret_key()
DEBUG = _env_bool("DJANGO_DEBUG", default=not PRODUCTION)
ALLOWED_HOSTS = _allowed_hosts()

INSTALLED_APPS = [
    # Above staticfiles: sqlmigrate's runserver (staticfiles' plus a line about
    # pending SQL migrations) wins only when its app comes first.
    "sqlmigrate",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "realstaging.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
if PRODUCTION:
    # WhiteNoise serves the admin's CSS/JS from STATIC_ROOT (collectstatic at build).
    MIDDLEWARE.insert(1, "whitenoise.middleware.WhiteNoiseMiddleware")

ROOT_URLCONF = "realstaging.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "realstaging.wsgi.application"

DATABASES = {
    "default": dj_database_url.parse(
        _database_url(),
        # Persistent connections pay off behind gunicorn; locally they would
        # only keep idle sessions open in the dev server.
        conn_max_age=600 if PRODUCTION else 0,
        conn_health_checks=True,
    ),
}
# An unreachable database host should fail in seconds, not after the OS's TCP
# timeout: the admin status page is opened during incidents.
if DATABASES["default"]["ENGINE"].endswith("mysql"):  # mysql:// URLs: tests
    from realstaging.mysql_driver import install_fallback

    install_fallback()
if DATABASES["default"]["ENGINE"].endswith("postgresql"):  # sqlite:/// URLs: tests
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 10)

# The schema is owned by the SQL files, not by Django migrations.
SQLMIGRATE_DIR = BASE_DIR / "infra" / "migrations"
SQLMIGRATE_TABLE = "schema_migrations"
SQLMIGRATE_LOCK_TIMEOUT = 15
# "table" behind PgBouncer in transaction pooling (see the README's "Safe deploys").
SQLMIGRATE_LOCK_STRATEGY = os.environ.get("SQLMIGRATE_LOCK_STRATEGY", "advisory")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

if PRODUCTION:
    # Render terminates TLS at its proxy and forwards plain HTTP with this header.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    # The platform's health check calls /healthz over plain HTTP from inside.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
