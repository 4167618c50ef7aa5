"""With ``HUB_ACCEL_REDIRECT_PREFIX`` (the filesystem backend behind nginx), a download that passed
every check is an empty answer naming the stored file in ``X-Accel-Redirect``, with the headers
the client reads; what nginx could not reproduce (a Range the hub reads differently) and every
refusal stay with the hub. tests/docker/test_nginx.py drives the same paths through a real nginx."""

import hashlib

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

from config.env import Env
from registry.choices import RepoType, ScanStatus
from registry.models import Blob, Repo, blob_storage_key
from registry.models_scans import BlobScan
from registry.services.commits import AddFile, commit_create
from registry.services.repos import repo_create
from registry.storage import stage_bytes
from tests.support.factories import make_user

pytestmark = pytest.mark.django_db

DATA = bytes(range(256)) * 4
BIG = b"\x02" * 11_000_000  # an LFS object
BIG_SHA = hashlib.sha256(BIG).hexdigest()


@pytest.fixture
def behind_nginx(settings):
    settings.HUB_ACCEL_REDIRECT_PREFIX = "/_blobs/"


@pytest.fixture
def repo():
    user = make_user("alice")
    repo = repo_create(user=user, namespace=user.namespace, name="tiny", repo_type=RepoType.MODEL)
    operations = [AddFile(path="data.dat", staged=stage_bytes(DATA)), AddFile(path="big.bin", staged=stage_bytes(BIG))]
    commit_create(repo=repo, user=user, ref="refs/heads/main", summary="add", operations=operations)
    return repo


def test_resolve_hands_the_file_to_nginx_with_the_client_headers(behind_nginx, repo, client):
    response = client.get("/alice/tiny/resolve/main/big.bin")
    assert response.status_code == 200
    assert not response.streaming
    assert response.content == b""
    assert response["X-Accel-Redirect"] == f"/_blobs/{blob_storage_key(BIG_SHA)}"
    assert response["X-Repo-Commit"] == Repo.objects.get().refs.get().target_oid
    assert response["X-Linked-Etag"] == f'"{BIG_SHA}"'
    assert response["X-Linked-Size"] == str(len(BIG))
    assert response["ETag"] == f'"{BIG_SHA}"'
    assert response["Content-Disposition"] == "inline; filename*=UTF-8''big.bin"
    assert response["Content-Type"] == "application/octet-stream"
    # A single range is nginx's to apply; Content-Length and Content-Range are then nginx's too.
    ranged = client.get("/alice/tiny/resolve/main/data.dat", HTTP_RANGE="bytes=10-19")
    assert ranged["X-Accel-Redirect"] == f"/_blobs/{blob_storage_key(hashlib.sha256(DATA).hexdigest())}"
    assert "Content-Range" not in ranged
    # The raw page serves through the same path.
    raw = client.get("/alice/tiny/raw/main/big.bin")
    assert raw["X-Accel-Redirect"] == f"/_blobs/{blob_storage_key(BIG_SHA)}"


def test_what_nginx_would_answer_differently_stays_with_the_hub(behind_nginx, repo, client):
    # Two ranges: the hub answers with the whole file, nginx would not.
    response = client.get("/alice/tiny/resolve/main/data.dat", HTTP_RANGE="bytes=0-1,5-6")
    assert "X-Accel-Redirect" not in response
    assert b"".join(response.streaming_content) == DATA
    head = client.head("/alice/tiny/resolve/main/big.bin")
    assert "X-Accel-Redirect" not in head
    assert head["Content-Length"] == str(len(BIG))
    unsatisfiable = client.get("/alice/tiny/resolve/main/data.dat", HTTP_RANGE="bytes=5000-")
    assert (unsatisfiable.status_code, "X-Accel-Redirect" in unsatisfiable) == (416, False)
    not_modified = client.get("/alice/tiny/resolve/main/big.bin", HTTP_IF_NONE_MATCH=f'"{BIG_SHA}"')
    assert (not_modified.status_code, "X-Accel-Redirect" in not_modified) == (304, False)


def test_refusals_answer_before_any_hand_off(behind_nginx, repo, client):
    BlobScan.objects.update_or_create(
        blob=Blob.objects.get(sha256=BIG_SHA), defaults={"state": ScanStatus.DANGEROUS, "kind": "pickle"}
    )
    quarantined = client.get("/alice/tiny/resolve/main/big.bin")
    assert (quarantined.status_code, "X-Accel-Redirect" in quarantined) == (403, False)
    Repo.objects.filter(pk=repo.pk).update(disabled=True, disabled_reason="legal")
    disabled = client.get("/alice/tiny/resolve/main/data.dat")
    assert (disabled.status_code, "X-Accel-Redirect" in disabled) == (451, False)
    Repo.objects.filter(pk=repo.pk).update(disabled=False, private=True)
    anonymous = Client().get("/alice/tiny/resolve/main/data.dat")
    assert (anonymous.status_code, "X-Accel-Redirect" in anonymous) == (404, False)


def test_without_the_prefix_the_hub_streams_the_bytes(repo, client):
    response = client.get("/alice/tiny/resolve/main/data.dat", HTTP_RANGE="bytes=10-19")
    assert "X-Accel-Redirect" not in response
    assert (response.status_code, response["Content-Range"]) == (206, "bytes 10-19/1024")
    assert b"".join(response.streaming_content) == DATA[10:20]


@pytest.mark.parametrize("value", ["_blobs/", "/_blobs", "x"])
def test_a_prefix_must_be_a_folder_path(value, monkeypatch):
    import importlib

    import config.settings.storage as storage_settings

    monkeypatch.setattr("config.env.env", Env({"HUB_ACCEL_REDIRECT_PREFIX": value}))
    try:
        with pytest.raises(ImproperlyConfigured, match="must start and end with /"):
            importlib.reload(storage_settings)
    finally:
        monkeypatch.undo()
        importlib.reload(storage_settings)
