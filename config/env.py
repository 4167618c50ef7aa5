"""The one place settings read the process environment.

Every setting that an operator may change is read through :class:`Env`, which parses the raw string
into the declared type and raises :class:`~django.core.exceptions.ImproperlyConfigured` naming the
variable and the expected form when the value is malformed. A hub that starts with a silently
ignored typo in ``DATABASE_URL`` is worse than one that refuses to start.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class Env:
    """Typed access to environment variables; malformed values fail loudly."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self._environ = os.environ if environ is None else environ

    def _raw(self, name: str) -> str | None:
        value = self._environ.get(name)
        return None if value is None else value.strip()

    def str(self, name: str, default: str) -> str:
        value = self._raw(name)
        return default if value is None or value == "" else value

    def optional_str(self, name: str) -> str | None:
        value = self._raw(name)
        return value or None

    def bool(self, name: str, default: bool) -> bool:
        value = self._raw(name)
        if value is None:
            return default
        lowered = value.lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ImproperlyConfigured(f"{name}={value!r} is not a boolean; use one of 1/0, true/false, yes/no, on/off")

    def int(self, name: str, default: int, *, minimum: int | None = None) -> int:
        value = self._raw(name)
        if value is None or value == "":
            return default
        try:
            parsed = int(value)
        except ValueError:
            raise ImproperlyConfigured(f"{name}={value!r} is not an integer") from None
        if minimum is not None and parsed < minimum:
            raise ImproperlyConfigured(f"{name}={parsed} is below the minimum of {minimum}")
        return parsed

    def float(self, name: str, default: float, *, minimum: float | None = None) -> float:
        value = self._raw(name)
        if value is None or value == "":
            return default
        try:
            parsed = float(value)
        except ValueError:
            raise ImproperlyConfigured(f"{name}={value!r} is not a number") from None
        if minimum is not None and parsed < minimum:
            raise ImproperlyConfigured(f"{name}={parsed} is below the minimum of {minimum}")
        return parsed

    def list(self, name: str, default: list[str]) -> list[str]:
        value = self._raw(name)
        if value is None:
            return list(default)
        return [item.strip() for item in value.split(",") if item.strip()]

    def choice(self, name: str, default: str, choices: tuple[str, ...]) -> str:
        value = self.str(name, default)
        if value not in choices:
            raise ImproperlyConfigured(f"{name}={value!r} is not one of {', '.join(choices)}")
        return value

    def rate(self, name: str, default: str) -> str:
        """A request rate as DRF writes it: ``<count>/<second|minute|hour|day>``."""
        value = self.str(name, default)
        count, _, period = value.partition("/")
        if not count.isdigit() or int(count) < 1 or period[:1] not in {"s", "m", "h", "d"}:
            raise ImproperlyConfigured(f"{name}={value!r} is not a rate such as 100/hour")
        return value

    def path(self, name: str, default: Path) -> Path:
        value = self._raw(name)
        return Path(value).expanduser().resolve() if value else default

    def url(self, name: str, default: str, *, schemes: tuple[str, ...]) -> str:
        value = self.str(name, default)
        scheme = urlsplit(value).scheme
        if scheme not in schemes:
            raise ImproperlyConfigured(f"{name}={value!r} must be a URL with one of the schemes {', '.join(schemes)}")
        return value


def database_from_url(url: str, *, base_dir: Path) -> dict:
    """Turn ``DATABASE_URL`` into a Django ``DATABASES['default']`` entry.

    ``sqlite:///relative/path.db`` and ``sqlite:////absolute/path.db`` select SQLite;
    ``postgres://user:pass@host:port/name?sslmode=…`` (or ``postgresql://``) selects PostgreSQL
    through psycopg 3. Query parameters become connection ``OPTIONS``.
    """
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        raw_path = unquote(parts.path)
        if not raw_path or raw_path == "/":
            raise ImproperlyConfigured(f"DATABASE_URL={url!r} names no SQLite file")
        path = Path(raw_path[1:])  # "sqlite:///rel.db" -> "rel.db"; "sqlite:////abs.db" -> "/abs.db"
        if not path.is_absolute():
            path = base_dir / path
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(path),
            # Concurrent web + worker processes share the embedded database.
            "OPTIONS": {"timeout": 30, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"},
        }
    if parts.scheme in {"postgres", "postgresql", "pgsql"}:
        name = unquote(parts.path.lstrip("/"))
        if not name:
            raise ImproperlyConfigured(f"DATABASE_URL={url!r} names no database")
        try:
            port = parts.port
        except ValueError:
            raise ImproperlyConfigured(f"DATABASE_URL={url!r} has a malformed port") from None
        options = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        pool = options.pop("pool", None)
        entry = {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": name,
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(port or ""),
            "CONN_MAX_AGE": 60,
            "CONN_HEALTH_CHECKS": True,
            "OPTIONS": options,
        }
        if pool is not None:
            # ``?pool=N``: at most N connections a process, lent to a request for its length
            # (psycopg's pool). Under ASGI every request runs in a thread of its own, so without a
            # pool connections grow with concurrent requests, not with processes.
            if not pool.isdigit() or not 1 <= int(pool) <= 1000:
                raise ImproperlyConfigured(f"DATABASE_URL={url!r}: pool must be a number of connections, 1 to 1000")
            options["pool"] = {"min_size": 1, "max_size": int(pool), "timeout": 120}
            entry.update(CONN_MAX_AGE=0, CONN_HEALTH_CHECKS=False)
        return entry
    raise ImproperlyConfigured(f"DATABASE_URL={url!r}: scheme must be sqlite or postgres")


env = Env()
