"""Fixtures shared by the registry's and the community app's tests, imported by their conftests.

``alice``, ``bob`` and ``repo`` (alice/tiny, one commit of ``base.txt``); ``hub`` (the stock client
as alice against the live server), ``bob_hub`` (the same as bob) and ``tiny`` (alice/tiny created
through it). ``no_staging_leftovers``: no test may leave staging files behind (an upload that
failed must clean up). Modules that define their own win.
"""

from pathlib import Path

import pytest
from django.conf import settings

from tests.frontend.builders import commit_files, make_repo
from tests.support.factories import make_user
from tests.support.hf import hub_client


@pytest.fixture(autouse=True)
def no_staging_leftovers(_isolated_staging):
    yield
    staging = Path(settings.UPLOAD_TEMP_DIR)
    leftovers = [p.relative_to(staging) for p in staging.rglob("*") if p.is_file()] if staging.exists() else []
    assert leftovers == [], f"staging files left behind: {leftovers}"


@pytest.fixture
def alice():
    return make_user("alice")


@pytest.fixture
def bob():
    return make_user("bob")


@pytest.fixture
def repo(alice):
    repo = make_repo(alice, "tiny")
    commit_files(repo, alice, {"base.txt": b"one\ntwo\nthree\n"}, summary="Base")
    return repo


@pytest.fixture
def hub(live_server):
    """The real huggingface_hub client as alice, against a live server (modules may define their own)."""
    return hub_client(live_server.url)


@pytest.fixture
def tiny(hub):
    hub.api.create_repo("tiny")
    return "alice/tiny"


@pytest.fixture
def bob_hub(live_server):
    """The same as bob."""
    return hub_client(live_server.url, "bob")
