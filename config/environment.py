"""Read configuration from the environment, with the embedded defaults for one box.

Every setting the operator can change is read here, once, at settings import; app code reads
`django.conf.settings`, never the environment. Secrets have no default in production: when they
are absent and the embedded default is in use (no `DATABASE_URL`), they are generated once into
`var/` so that `make run` works on a fresh machine; otherwise start-up fails with a clear message.
"""

import os
import secrets
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

TRUE_VALUES = {"1", "true", "yes", "on"}
FALSE_VALUES = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    """Return the variable's value, or `default` when it is unset."""
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    """Return the variable as a boolean; refuse values that are neither true nor false."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in TRUE_VALUES:
        return True
    if value in FALSE_VALUES:
        return False
    raise ImproperlyConfigured(f"{name} must be one of 1/0, true/false, yes/no, on/off.")


def env_int(name: str, default: int) -> int:
    """Return the variable as an integer; refuse anything else."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, not {raw!r}.") from exc


def env_list(name: str, default: list[str]) -> list[str]:
    """Return a comma-separated variable as a list of non-empty, stripped items."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def secret(name: str, *, var_dir: Path, embedded: bool) -> str:
    """Return a secret from the environment, or one generated once into `var_dir` when embedded."""
    value = os.environ.get(name, "")
    if value:
        return value
    if not embedded:
        raise ImproperlyConfigured(
            f"{name} is not set. Production (DATABASE_URL set) needs every secret from the "
            "environment; see docs/operations.md."
        )
    path = var_dir / name.lower()
    var_dir.mkdir(parents=True, exist_ok=True)
    try:
        # O_EXCL: when web, worker and beat start together, only one of them writes the secret.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_urlsafe(50))
    return path.read_text().strip()
