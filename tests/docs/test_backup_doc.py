"""The SQLite backup command in docs/operations.md works on a database in use, as it says."""

import re
import shlex
import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_documented_online_backup_copies_a_database_that_is_being_written(tmp_path):
    text = (ROOT / "docs" / "operations.md").read_text()
    command = re.search(r"`\.venv/bin/python (-c \"import sqlite3.*?\") backups/", text).group(1)
    live = tmp_path / "var" / "crm.sqlite3"
    live.parent.mkdir()
    writer = sqlite3.connect(live, isolation_level=None)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("CREATE TABLE note (body TEXT)")
    writer.execute("INSERT INTO note VALUES ('committed')")
    # A transaction still open while the backup runs, as when the web is writing.
    writer.execute("BEGIN")
    writer.execute("INSERT INTO note VALUES ('not yet committed')")

    backup = tmp_path / "crm-backup.sqlite3"
    subprocess.run(
        [sys.executable, *shlex.split(command), str(backup)],
        cwd=tmp_path,
        check=True,
        timeout=60,
    )
    writer.execute("ROLLBACK")
    rows = sqlite3.connect(backup).execute("SELECT body FROM note").fetchall()
    assert rows == [("committed",)]
