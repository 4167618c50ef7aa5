"""Suite-wide set-up: everything a run writes stays under the data folder of the tests
(``HUB_DATA_DIR``, ``var/test`` for ``make test``) and is pruned when the next run starts —
pytest's temporary folders in ``pytest/``, the huggingface_hub client's cache in ``hf-home/``;
the client never phones home."""

import os
import shutil
from pathlib import Path

import pytest
from django.conf import settings

TEST_DATA = Path(settings.DATA_DIR)
HF_HOME = TEST_DATA / "hf-home"

# huggingface_hub reads these at import time (HF_PROTOCOL.md §1), so they are set before any test
# module imports it.
shutil.rmtree(HF_HOME, ignore_errors=True)
HF_HOME.mkdir(parents=True)
# Blobs of earlier runs belong to test databases that no longer exist.
shutil.rmtree(Path(settings.BLOB_ROOT), ignore_errors=True)
os.environ["HF_HOME"] = str(HF_HOME)
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
os.environ["HF_HUB_DISABLE_UPDATE_CHECK"] = "1"
os.environ["HF_HUB_DISABLE_IMPLICIT_TOKEN"] = "1"
os.environ.pop("HF_TOKEN", None)
os.environ.pop("HF_ENDPOINT", None)
os.environ.pop("HUGGINGFACE_CO_STAGING", None)

from django.core.cache import cache  # noqa: E402


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    """pytest's temporary folders live in ``pytest/`` of the test data folder, which pytest empties
    at the start of every run (``--basetemp``), so runs never pile up."""
    if config.option.basetemp is None:
        config.option.basetemp = str(TEST_DATA / "pytest")


@pytest.fixture(autouse=True)
def _clear_cache():
    """Throttle counters live in the cache; every test starts with a clean budget."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """Threads of live servers must not keep connections open past their request, or the test
    database cannot be dropped at the end of the session."""
    from django.conf import settings
    from django.db import connections

    settings.DATABASES["default"]["CONN_MAX_AGE"] = 0
    connections["default"].settings_dict["CONN_MAX_AGE"] = 0


@pytest.fixture(autouse=True)
def _isolated_staging(settings, tmp_path_factory):
    """Each test stages uploads in a folder of its own, so leftovers are attributable."""
    settings.UPLOAD_TEMP_DIR = tmp_path_factory.mktemp("staging")


@pytest.fixture(scope="session", autouse=True)
def _celery_for_tests(tmp_path_factory):
    """Tasks the code under test enqueues run inline (eagerly); the broker tests send to a real
    broker explicitly. A filesystem broker gets a folder of its own per test run, shared with the
    worker processes the tests start (through ``CELERY_BROKER_DIR``), so concurrent runs never
    consume each other's messages."""
    from django.conf import settings

    from config.celery import app

    app.conf.task_always_eager = True
    if settings.CELERY_BROKER_URL.startswith("filesystem://"):
        broker_dir = tmp_path_factory.mktemp("broker")
        options = {
            "data_folder_in": str(broker_dir / "queue"),
            "data_folder_out": str(broker_dir / "queue"),
            "processed_folder": str(broker_dir / "processed"),
            "control_folder": str(broker_dir / "control"),
            "store_processed": False,
        }
        for folder in ("queue", "processed", "control"):
            (broker_dir / folder).mkdir()
        app.conf.broker_transport_options = options
        os.environ["CELERY_BROKER_DIR"] = str(broker_dir)
    yield
    app.conf.task_always_eager = False


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared data kit (BIG-bench tasks, the Wikipedia corpus); a test that needs it skips,
    saying where it looked, when it is absent."""
    from evals.harness.data import default_data_root

    root = default_data_root()
    if not (root / "MANIFEST.sha256").is_file():
        pytest.skip(f"the shared data kit is not at {root} (set HUB_SHARED_DATA to its directory)")
    return root
