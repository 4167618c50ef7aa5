"""``DATABASE_URL``'s ``pool`` parameter: a bounded psycopg pool per process instead of one
persistent connection per request thread (what ran PostgreSQL out of connections under load)."""

from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import database_from_url


def test_pool_bounds_the_connections_of_a_process():
    entry = database_from_url("postgres://hub@db:5432/hub?pool=20&sslmode=disable", base_dir=Path("."))
    assert entry["OPTIONS"] == {"sslmode": "disable", "pool": {"min_size": 1, "max_size": 20, "timeout": 120}}
    # Django lends pooled connections only to non-persistent ones.
    assert entry["CONN_MAX_AGE"] == 0


def test_without_pool_connections_stay_persistent():
    entry = database_from_url("postgres://hub@db:5432/hub", base_dir=Path("."))
    assert "pool" not in entry["OPTIONS"]
    assert entry["CONN_MAX_AGE"] == 60


@pytest.mark.parametrize("value", ["0", "-1", "many", "1001"])
def test_a_pool_size_that_is_not_a_number_of_connections_is_refused(value):
    with pytest.raises(ImproperlyConfigured, match="pool must be a number of connections"):
        database_from_url(f"postgres://hub@db:5432/hub?pool={value}", base_dir=Path("."))
