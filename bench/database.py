"""The bench's own database: `crm_bench` on the PostgreSQL server, or SQLite under var/bench/.

The developer's database is never touched: the bench settings replace the database name before
Django connects, and only a database named `crm_bench` (or the bench's SQLite file) is dropped.
"""

from pathlib import Path
from typing import Any

import psycopg
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection, connections
from psycopg import sql

BENCH_DB_NAME = "crm_bench"
SQLITE_PATH = Path(__file__).resolve().parent.parent / "var" / "bench" / "crm_bench.sqlite3"


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
    """Create the bench database if it does not exist yet and migrate it; say if it was created."""
    if connection.vendor == "postgresql":
        with _server_connection() as server:
            found = server.execute("SELECT 1 FROM pg_database WHERE datname = %s", [BENCH_DB_NAME])
            created = found.fetchone() is None
            if created:
                server.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(BENCH_DB_NAME)))
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
        with _server_connection() as server:
            name = sql.Identifier(BENCH_DB_NAME)
            server.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
            server.execute(sql.SQL("CREATE DATABASE {}").format(name))
    else:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{SQLITE_PATH}{suffix}").unlink(missing_ok=True)
    ensure_database()


def _require_bench_name(name: object) -> None:
    # A last guard before DROP: whatever the settings say, only the bench's own database goes.
    if str(name) not in (BENCH_DB_NAME, str(SQLITE_PATH)):
        raise ImproperlyConfigured(f"Refusing to drop {name!r}: not the bench database.")


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
