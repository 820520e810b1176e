"""Run golang-migrate style SQL migration files through Django's connection."""

__version__ = "0.1.0"
