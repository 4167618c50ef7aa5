"""Database: SQLite under ``HUB_DATA_DIR`` by default, PostgreSQL when ``DATABASE_URL`` names it."""

import os
from pathlib import Path

from config.env import database_from_url, env
from config.settings.base import BASE_DIR, DATA_DIR

DATABASE_URL = env.str("DATABASE_URL", f"sqlite:///{DATA_DIR / 'hub.sqlite3'}")
DATABASES = {"default": database_from_url(DATABASE_URL, base_dir=BASE_DIR)}

if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # The embedded default must start on a fresh clone with nothing prepared.
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # Tests use a file, not SQLite's in-memory database, so live servers and worker processes the
    # tests start see the same data; one file per test process, so concurrent runs never share one.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / f"test-hub-{os.getpid()}.sqlite3")}
