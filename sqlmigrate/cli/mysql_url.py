"""``mysql://user:password@tcp(host:port)/dbname?params``: golang-migrate's ``mysql`` URL.

Inside the scheme is a go-sql-driver DSN, parsed as that driver parses it
(the last ``/`` before the parameters ends the address, the last ``@`` before
it ends the credentials), so the CLI's messages for a URL it cannot use are
ours too. It becomes a Django ``django.db.backends.mysql`` entry, connected
through mysqlclient, or PyMySQL standing in for it when only PyMySQL is
installed. Imported only for a ``mysql://`` URL.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, unquote

from ..exceptions import ConfigurationError
from ..goflag import parse_bool, parse_int
from .dbconfig import STATEMENT_TIMEOUT_MS

INSTALL = 'pip install "django-sqlmigrate[mysql]"'
#: go-sql-driver parameters with no meaning for Python's drivers (Go types, Go's
#: client-side statement building); accepted as the CLI accepts them
_GO_ONLY = {"parseTime", "loc", "multiStatements", "interpolateParams", "columnsWithAlias",
            "clientFoundRows", "rejectReadOnly", "maxAllowedPacket", "checkConnLiveness",
            "allowNativePasswords", "allowCleartextPasswords", "allowOldPasswords",
            "x-no-lock"}  # fmt: skip
_TIMEOUTS = {"timeout": "connect_timeout", "readTimeout": "read_timeout",
             "writeTimeout": "write_timeout"}  # fmt: skip
_TLS_FILES = {"x-tls-ca": "ca", "x-tls-cert": "cert", "x-tls-key": "key"}


def fail(message: str) -> ConfigurationError:
    return ConfigurationError(f"failed to open database: {message}")


def mysql_database(url: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the DATABASES entry, sqlmigrate's settings) for a ``mysql://`` URL."""
    dsn = url.removeprefix("mysql://")
    head, _, query = dsn.partition("?")
    slash = head.rfind("/")
    if slash < 0:
        raise fail("invalid DSN: missing the slash separating the database name")
    where, name = head[:slash], unquote(head[slash + 1 :])
    at = where.rfind("@")
    user, _, password = where[:at].partition(":") if at >= 0 else ("", "", "")
    host, port = _address(where[at + 1 :])
    if not name:
        raise fail("no database name")
    database: dict[str, Any] = {
        "ENGINE": "django.db.backends.mysql",
        "NAME": name,
        "USER": unquote(user),
        "PASSWORD": unquote(password),
        "HOST": host,
        "PORT": port,
    }
    options, extra = _parameters(parse_qsl(query, keep_blank_values=True))
    database["OPTIONS"] = options
    load_driver()
    return database, extra


def _address(text: str) -> tuple[str, str]:
    """(HOST, PORT) of ``tcp(host:port)``, ``unix(/socket)`` or nothing (localhost)."""
    network, paren, address = text.partition("(")
    if paren and not address.endswith(")"):
        raise fail("invalid DSN: did you forget to escape a param value?")
    address = address[:-1] if paren else ""
    network = network or "tcp"
    if network == "unix":
        return address or "/tmp/mysql.sock", ""  # noqa: S108 - go-sql-driver's default
    if network not in ("tcp", "tcp6"):
        raise fail(f"default addr for network '{network}' unknown")
    host, colon, port = (address or "127.0.0.1:3306").rpartition(":")
    if not colon:
        host, port = address, "3306"
    return host.strip("[]") or "127.0.0.1", port or "3306"


def _parameters(pairs: list[tuple[str, str]]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the driver's OPTIONS, sqlmigrate's settings) from the URL's parameters."""
    options: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    variables: list[str] = []
    given = dict(pairs)
    for key, value in pairs:
        if key == "x-no-lock" and value and parse_bool(value) is None:
            raise fail(
                f'could not parse x-no-lock as bool: strconv.ParseBool: parsing "{value}": '
                "invalid syntax"
            )
        if key in _GO_ONLY or key in _TLS_FILES or key == "x-tls-insecure-skip-verify":
            continue
        if key == "x-migrations-table":
            extra["SQLMIGRATE_TABLE"] = value
        elif key == "x-statement-timeout":
            extra[STATEMENT_TIMEOUT_MS] = _statement_timeout(value)
        elif key == "tls":
            options.update(_tls(value, given))
        elif key.startswith("x-"):
            raise fail(
                f"the URL option {key} is not supported by python -m sqlmigrate (supported: "
                f"x-migrations-table, x-no-lock, x-statement-timeout, x-tls-ca, x-tls-cert, "
                f"x-tls-key, x-tls-insecure-skip-verify)"
            )
        elif key in _TIMEOUTS:
            options[_TIMEOUTS[key]] = max(1, round(_go_seconds(key, value)))
        elif key == "charset":
            options["charset"] = value.split(",")[0]
        else:  # go-sql-driver sets any other parameter as a session variable
            variables.append(f"{_variable(key)} = {value}")
    if variables:
        options["init_command"] = "SET SESSION " + ", ".join(variables)
    return options, extra


def _statement_timeout(value: str) -> int:
    milliseconds = parse_int(value, signed=True)
    if milliseconds is None:
        raise fail(
            f'could not parse x-statement-timeout as float: strconv.Atoi: parsing "{value}": '
            "invalid syntax"
        )
    return milliseconds


def _tls(value: str, given: dict[str, str]) -> dict[str, Any]:
    """go-sql-driver's ``tls``. A name of one's own takes golang-migrate's ``x-tls-*``
    files (both Python drivers read ``ssl``'s ca, cert and key); ``true``,
    ``skip-verify`` and ``preferred`` have no equivalent both drivers share."""
    if parse_bool(value) is False:
        return {}
    if parse_bool(value) is not None or value.lower() in ("skip-verify", "preferred"):
        raise fail(
            f"tls={value} is not supported by python -m sqlmigrate: name a CA with "
            f"tls=custom&x-tls-ca=FILE (and x-tls-cert, x-tls-key)"
        )
    if not given.get("x-tls-ca"):
        raise fail("open : no such file or directory")
    if bool(given.get("x-tls-cert")) != bool(given.get("x-tls-key")):
        raise fail(
            "To use TLS client authentication, both x-tls-cert and x-tls-key must not be empty"
        )
    ssl: dict[str, Any] = {name: given[key] for key, name in _TLS_FILES.items() if given.get(key)}
    if parse_bool(given.get("x-tls-insecure-skip-verify") or "false"):
        ssl["check_hostname"] = False  # PyMySQL reads it; mysqlclient checks no host name
    return {"ssl": ssl}


def _go_seconds(key: str, value: str) -> float:
    units = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
    for unit in ("ms", "s", "m", "h"):
        number = value.removesuffix(unit)
        if number != value and number.replace(".", "", 1).isdigit():
            return float(number) * units[unit]
    raise fail(f'invalid DSN: {key}: time: invalid duration "{value}"')


def _variable(name: str) -> str:
    if not name.replace("_", "").isalnum() or not name.isascii():
        raise fail(f"invalid session variable name in the URL: {name!r}")
    return name


def load_driver() -> None:
    """mysqlclient, else PyMySQL in its place; else the extra to install, named."""
    try:
        import MySQLdb  # noqa: F401
    except ImportError:
        try:
            import pymysql
        except ImportError:
            raise fail(
                f"a mysql:// URL needs a MySQL driver for Python: {INSTALL} (mysqlclient), "
                f"or pip install PyMySQL"
            ) from None
        # Django checks the driver's version: PyMySQL answers as the mysqlclient it replaces.
        pymysql.version_info = (2, 2, 1, "final", 0)
        pymysql.install_as_MySQLdb()


def limit_statements(milliseconds: int) -> None:
    """``x-statement-timeout``: how long each statement of the session may run. The CLI
    gives up client-side and drops the connection; here the server stops the statement
    (MariaDB's ``max_statement_time``; MySQL's ``max_execution_time``, SELECTs only)."""
    from django.db.backends.signals import connection_created

    def limit(sender: object, connection: Any, **kwargs: object) -> None:
        with connection.cursor() as cursor:
            if connection.mysql_is_mariadb:
                cursor.execute(f"SET SESSION max_statement_time = {milliseconds / 1000}")
            else:
                cursor.execute(f"SET SESSION max_execution_time = {milliseconds}")

    connection_created.connect(limit, weak=False)
