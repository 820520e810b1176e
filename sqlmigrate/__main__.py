"""``python -m sqlmigrate``: golang-migrate's ``migrate`` command line (see sqlmigrate.cli)."""

from sqlmigrate.cli import main

raise SystemExit(main())
