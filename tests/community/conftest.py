"""Community tests: ``alice``, ``bob`` and ``repo`` (alice/tiny, one commit of ``base.txt``);
``hub`` and ``bob_hub`` drive the stock client as alice and bob against a live server, ``tiny``
is alice/tiny created through it. No test may leave staging files behind."""

from pathlib import Path

import pytest
from django.conf import settings

from tests.frontend.builders import commit_files, make_repo
from tests.support.factories import make_user
from tests.support.hf import hub_client


@pytest.fixture(autouse=True)
def _no_staging_leftovers(_isolated_staging):
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
    """The real huggingface_hub client as alice, against a live server."""
    return hub_client(live_server.url)


@pytest.fixture
def tiny(hub):
    hub.api.create_repo("tiny")
    return "alice/tiny"


@pytest.fixture
def bob_hub(live_server):
    return hub_client(live_server.url, "bob")
