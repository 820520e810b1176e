"""``runserver`` that also says when SQL migrations are pending, as Django does for its own.

It extends whichever ``runserver`` it replaces: staticfiles' when that app is
installed, else core's. Django takes a command from the first app in
INSTALLED_APPS that has it, so list ``sqlmigrate`` above
``django.contrib.staticfiles`` (and below daphne, which replaces runserver too).
"""

from __future__ import annotations

from django.apps import apps
from django.core.checks import ERROR
from django.db import DEFAULT_DB_ALIAS

from ...checks import database_messages, supported
from ...status import read_status

if apps.is_installed("django.contrib.staticfiles"):
    from django.contrib.staticfiles.management.commands.runserver import (
        Command as BaseRunserver,
    )
else:
    from django.core.management.commands.runserver import (  # type: ignore[assignment]
        Command as BaseRunserver,
    )


class Command(BaseRunserver):
    def check_migrations(self) -> None:
        super().check_migrations()
        self.check_sql_migrations()

    def check_sql_migrations(self) -> None:
        """Print pending, dirty or unreadable; never stop the server from starting."""
        if not supported(DEFAULT_DB_ALIAS):
            return
        status = read_status(using=DEFAULT_DB_ALIAS)
        for message in database_messages(status):
            if message.id == "sqlmigrate.W001":
                text = f"\nYou have {status.pending} unapplied SQL migration(s). {message.hint}"
            elif message.id == "sqlmigrate.W002":
                text = f"\n{message.msg}"
            else:
                text = f"\n{message.msg}\n{message.hint}"
            style = self.style.ERROR if message.level >= ERROR else self.style.NOTICE
            self.stdout.write(style(text))
