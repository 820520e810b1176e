#!/usr/bin/env python3
"""Django's command-line utility for the realstaging project."""

from __future__ import annotations

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "realstaging.settings")
    try:
        from django.core.management import execute_from_command_line
    except ImportError as error:
        raise ImportError(
            "Couldn't import Django. Run `python3 dev.py migrate` to set up .venv, "
            "then use .venv/bin/python manage.py ..."
        ) from error
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
