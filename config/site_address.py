"""The site's address, chosen once and kept in `var/`, so that every process links to one place.

`make run` chooses it (`SITE_URL` when set, else the local address on its port) and writes it to
`var/site_url`; the settings of every later process read it from there when `SITE_URL` is not in
their environment, so `manage.py send_campaign` typed in another shell mails links that open. A
kept local address follows a new port, since a link to the old port would lead nowhere.

Run as `python -m config.site_address --port N` (no Django needed): print the address chosen.
"""

import argparse
import os
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

SITE_URL_FILE = "site_url"
DEFAULT_SITE_URL = "http://127.0.0.1:8000"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


def kept_site_url(var_dir: Path) -> str:
    """Return the address kept in `var_dir`, or "" when none was chosen yet."""
    try:
        return (var_dir / SITE_URL_FILE).read_text().strip().rstrip("/")
    except OSError:
        return ""


def choose_site_url(*, var_dir: Path, offered: str, port: int) -> str:
    """Keep and return the offered address, else the kept one (moved to `port` if local)."""
    chosen = offered.strip().rstrip("/")
    if chosen:
        parts = urlsplit(chosen)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"SITE_URL must be an http or https address, not {offered!r}.")
    else:
        kept = kept_site_url(var_dir)
        parts = urlsplit(kept)
        if kept and parts.hostname in LOCAL_HOSTS and parts.port != port:
            host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
            kept = urlunsplit((parts.scheme, f"{host}:{port}", parts.path, "", ""))
        chosen = kept or f"http://127.0.0.1:{port}"
    var_dir.mkdir(parents=True, exist_ok=True)
    (var_dir / SITE_URL_FILE).write_text(chosen + "\n")
    return chosen


def main(argv: list[str] | None = None) -> int:
    """Print the site address chosen for this run (see the module's note)."""
    parser = argparse.ArgumentParser(description="Choose and keep the site's address.")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    var_dir = Path(os.environ.get("VAR_DIR") or Path(__file__).resolve().parent.parent / "var")
    try:
        chosen = choose_site_url(
            var_dir=var_dir, offered=os.environ.get("SITE_URL", ""), port=args.port
        )
    except ValueError as exc:
        sys.stderr.write(f"{exc}\n")
        return 2
    sys.stdout.write(f"{chosen}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
