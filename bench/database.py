"""The bench's own database: `crm_bench` on the PostgreSQL server, or SQLite under var/bench/.

The developer's database is never touched: the bench settings replace the database name before
Django connects, and only the bench's own databases (`crm_bench`, the purge benchmark's
`crm_bench_purge` and `crm_bench_purge_run`, the campaign benchmarks' `crm_bench_send`, the
import benchmark's `crm_bench_imp…`, the tracking benchmark's `crm_bench_trk`, or the
bench's SQLite file) are ever dropped.
"""

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection, connections
from psycopg import sql

# `BENCH_DB_SUFFIX` gives every bench database a suffix, so two checkouts can bench side by side.
SUFFIX = os.environ.get("BENCH_DB_SUFFIX", "")
BENCH_DB_NAME = f"crm_bench{SUFFIX}"
# The purge benchmark's databases on PostgreSQL: one seeded once per scale and used as a template,
# and the copy of it that one measurement purges.
PURGE_DB_NAME = f"crm_bench_purge{SUFFIX}"
PURGE_RUN_DB_NAME = f"crm_bench_purge_run{SUFFIX}"
# The campaign benchmarks' database: contacts with consent decisions and suppressions.
SEND_DB_NAME = f"crm_bench_send{SUFFIX}"
# The tracking benchmark's database, which its gunicorn and Celery worker use too.
TRACKING_DB_NAME = f"crm_bench_trk{SUFFIX}"
POSTGRESQL_NAMES = frozenset(
    {BENCH_DB_NAME, PURGE_DB_NAME, PURGE_RUN_DB_NAME, SEND_DB_NAME, TRACKING_DB_NAME}
)
# The import benchmark's databases: one seeded per list size, and the copy one run imports into.
IMPORT_DB_PREFIX = f"crm_bench_imp{SUFFIX}"
# How often CREATE DATABASE … TEMPLATE is tried while another session (autovacuum) is connected.
COPY_ATTEMPTS = 10
SQLITE_PATH = (
    Path(__file__).resolve().parent.parent / "var" / "bench" / f"crm_bench{SUFFIX}.sqlite3"
)


def bench_database(default: dict[str, Any]) -> dict[str, Any]:
    """Return a copy of the database settings that names the bench's own database."""
    database = dict(default)
    engine = database["ENGINE"]
    if engine.endswith("postgresql"):
        database["NAME"] = BENCH_DB_NAME
    elif engine.endswith("sqlite3"):
        database["NAME"] = SQLITE_PATH
    else:
        raise ImproperlyConfigured(f"The bench runs on PostgreSQL or SQLite, not {engine}.")
    return database


def database_label() -> str:
    """Return "postgresql" or "sqlite", as the results file names the database."""
    return "postgresql" if connection.vendor == "postgresql" else "sqlite"


def ensure_database() -> bool:
    """Create the bench database if it does not exist yet and migrate it; say if it was created.

    On PostgreSQL it is the database the default connection names now: `crm_bench`, or another
    of the bench's databases inside `using_database`.
    """
    if connection.vendor == "postgresql":
        name = _current_name()
        created = not database_exists(name)
        if created:
            with _server_connection() as server:
                server.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    else:
        created = not SQLITE_PATH.exists()
        SQLITE_PATH.parent.mkdir(parents=True, exist_ok=True)
    call_command("migrate", verbosity=0, interactive=False)
    return created


def recreate_database() -> None:
    """Drop the bench database and create it empty and migrated."""
    _require_bench_name(settings.DATABASES["default"]["NAME"])
    connections.close_all()
    if connection.vendor == "postgresql":
        name = _current_name()
        drop_database(name)
        with _server_connection() as server:
            server.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    else:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{SQLITE_PATH}{suffix}").unlink(missing_ok=True)
    ensure_database()


@contextmanager
def using_database(name: str) -> Iterator[None]:
    """Point the default connection at another of the bench's PostgreSQL databases for a while.

    Django reads the database name when it connects, so every connection is closed on the way in
    and out; the name is restored afterwards.
    """
    _require_bench_name(name)
    if connection.vendor != "postgresql":
        raise ImproperlyConfigured("Only the PostgreSQL bench has more than one database.")
    database = settings.DATABASES["default"]
    previous = database["NAME"]
    connections.close_all()
    database["NAME"] = name
    try:
        yield
    finally:
        connections.close_all()
        database["NAME"] = previous


def database_exists(name: str) -> bool:
    """Say whether the PostgreSQL server has a database of that name."""
    with _server_connection() as server:
        found = server.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        return found.fetchone() is not None


def drop_database(name: str) -> None:
    """Drop one of the bench's PostgreSQL databases, if it exists, whoever is connected to it."""
    _require_bench_name(name)
    with _server_connection() as server:
        identifier = sql.Identifier(name)
        server.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(identifier))


def copy_database(template: str, name: str) -> None:
    """Replace the bench database `name` by a file copy of the bench database `template`.

    `STRATEGY FILE_COPY` copies the files after a checkpoint instead of writing every page to the
    WAL (PostgreSQL 15's default), which is much faster for a database of gigabytes. The copy
    carries the template's planner statistics and visibility map. PostgreSQL refuses while another
    session is connected to the template; an autovacuum worker may be, so the copy is retried.
    """
    _require_bench_name(template)
    drop_database(name)
    statement = sql.SQL("CREATE DATABASE {} TEMPLATE {} STRATEGY FILE_COPY").format(
        sql.Identifier(name), sql.Identifier(template)
    )
    with _server_connection() as server:
        for attempt in range(COPY_ATTEMPTS):
            try:
                server.execute(statement)
                return
            except psycopg.errors.ObjectInUse:
                if attempt == COPY_ATTEMPTS - 1:
                    raise
                time.sleep(2)


def _current_name() -> str:
    name = str(settings.DATABASES["default"]["NAME"])
    _require_bench_name(name)
    return name


def _require_bench_name(name: object) -> None:
    # A last guard before DROP: whatever the settings say, only the bench's own databases go.
    known = str(name) in (*POSTGRESQL_NAMES, str(SQLITE_PATH))
    if not known and not str(name).startswith(IMPORT_DB_PREFIX):
        raise ImproperlyConfigured(f"Refusing to drop {name!r}: not a bench database.")


def _server_connection() -> psycopg.Connection:
    """Connect to the server's maintenance database, to create or drop the bench database."""
    database = settings.DATABASES["default"]
    params: dict[str, Any] = {
        "dbname": "postgres",
        "host": database.get("HOST") or None,
        "port": database.get("PORT") or None,
        "user": database.get("USER") or None,
        "password": database.get("PASSWORD") or None,
        "sslmode": database.get("OPTIONS", {}).get("sslmode"),
    }
    return psycopg.connect(
        autocommit=True, **{key: value for key, value in params.items() if value is not None}
    )
