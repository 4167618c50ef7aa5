"""Registry tests: no test may leave staging files behind (an upload that failed must clean up)."""

from pathlib import Path

import pytest
from django.conf import settings


@pytest.fixture(autouse=True)
def _no_staging_leftovers(_isolated_staging):
    yield
    staging = Path(settings.UPLOAD_TEMP_DIR)
    leftovers = [p.relative_to(staging) for p in staging.rglob("*") if p.is_file()] if staging.exists() else []
    assert leftovers == [], f"staging files left behind: {leftovers}"
