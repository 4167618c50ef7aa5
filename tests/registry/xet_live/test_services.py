"""``registry.services.xet`` on hand-built artefacts: intake, verification before exposure, tokens, collection."""

import io
import time
import tracemalloc
from datetime import timedelta

import pytest
from django.utils import timezone

from common.errors import NotFound, PermissionDenied, Unauthenticated, ValidationError
from hub.services.organizations import membership_remove
from hub.services.tokens import token_revoke
from registry.choices import RepoType
from registry.models import Blob, RepoBlob, XetFile, XetFileXorb, Xorb
from registry.models_xet import xorb_storage_key
from registry.services import xet as xet_services
from registry.services.commits import AddLfsFile, commit_create
from registry.services.repos import repo_create
from registry.services.xet import XetScope, shard_receive, xet_collect, xet_token_check, xet_token_issue, xorb_receive
from registry.services.xet import shards as xet_shards
from registry.services.xet import tokens as xet_tokens
from registry.storage import blob_open, blob_storage, staging_dir
from registry.xet.errors import XetHashMismatch, XetMissingXorb, XetSha256Mismatch, XetVerificationHashMismatch
from registry.xet.protocol import SHARD_RESULT_EXISTS, SHARD_RESULT_SYNCED
from registry.xet.shard import ShardFile
from registry.xet.xorb import CompressionScheme
from tests.registry.xet_live.builders import BuiltFile, build_file, shard_body
from tests.support.factories import make_org, make_token, make_user
from tests.support.hf import random_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice():
    return make_user("alice")


@pytest.fixture
def repo(alice):
    return repo_create(user=alice, namespace=alice.namespace, name="tiny", repo_type=RepoType.MODEL)


def _store(built: BuiltFile) -> None:
    xorb_receive(xorb_hash=built.xorb_hash, stream=io.BytesIO(built.xorb_body))


def _nothing_recorded_for(built: BuiltFile, claimed: str) -> None:
    assert XetFile.objects.count() == 0
    assert Blob.objects.filter(sha256__in=[built.sha256, claimed]).count() == 0
    assert RepoBlob.objects.filter(blob__sha256__in=[built.sha256, claimed]).count() == 0
    assert [p for p in staging_dir().rglob("*") if p.is_file()] == []


def test_xorb_is_verified_stored_as_received_and_indexed_once():
    built = build_file(random_bytes(300_000, seed=1) + bytes(200_000))
    assert xorb_receive(xorb_hash=built.xorb_hash, stream=io.BytesIO(built.xorb_body)) is True
    row = Xorb.objects.get()
    assert (row.hash, row.size, row.unpacked_size, row.chunk_count) == (
        built.xorb_hash,
        len(built.xorb_body),
        500_000,
        8,
    )
    with blob_storage().open(xorb_storage_key(built.xorb_hash), "rb") as handle:
        assert handle.read() == built.xorb_body
    # The same hash in upper case is the same xorb; a second upload inserts nothing.
    assert xorb_receive(xorb_hash=built.xorb_hash.upper(), stream=io.BytesIO(built.xorb_body)) is False
    assert Xorb.objects.count() == 1
    assert [p for p in staging_dir().rglob("*") if p.is_file()] == []


def test_xorb_that_does_not_match_its_hash_leaves_nothing():
    built = build_file(random_bytes(200_000, seed=2))
    other = build_file(random_bytes(200_000, seed=3))
    with pytest.raises(XetHashMismatch, match=f"not {built.xorb_hash}"):
        xorb_receive(xorb_hash=built.xorb_hash, stream=io.BytesIO(other.xorb_body))
    assert Xorb.objects.count() == 0
    assert blob_storage().exists(xorb_storage_key(built.xorb_hash)) is False
    assert [p for p in staging_dir().rglob("*") if p.is_file()] == []


def test_shard_registers_rebuilt_content_as_the_blob_of_its_sha256(repo):
    built = build_file(random_bytes(150_000, seed=4), scheme=CompressionScheme.BG4_LZ4)
    _store(built)
    outcome = shard_receive(repo=repo, stream=io.BytesIO(shard_body(built.shard_file)))
    assert (outcome.files, outcome.registered, outcome.linked, outcome.result) == (1, 1, 1, SHARD_RESULT_SYNCED)
    xet_file = XetFile.objects.get()
    assert (xet_file.file_hash, xet_file.sha256, xet_file.size) == (built.file_hash, built.sha256, 150_000)
    assert list(XetFileXorb.objects.values_list("xorb__hash", flat=True)) == [built.xorb_hash]
    blob = Blob.objects.get(sha256=built.sha256)
    with blob_open(blob) as handle:
        assert handle.read() == built.content
    assert RepoBlob.objects.filter(repo=repo, blob=blob).count() == 1
    # The same shard again changes nothing.
    again = shard_receive(repo=repo, stream=io.BytesIO(shard_body(built.shard_file)))
    assert (again.registered, again.linked, again.result) == (0, 0, SHARD_RESULT_EXISTS)


def test_forged_sha256_is_refused_and_nothing_becomes_visible(repo, alice):
    real = build_file(random_bytes(120_000, seed=5))
    popular = random_bytes(120_000, seed=6)
    claimed = build_file(popular).sha256
    forged = build_file(real.content, claimed_sha256=claimed)
    _store(forged)
    with pytest.raises(XetSha256Mismatch, match=f"hashes to sha256 {real.sha256}, the shard declares {claimed}"):
        shard_receive(repo=repo, stream=io.BytesIO(shard_body(forged.shard_file)))
    _nothing_recorded_for(real, claimed)
    with pytest.raises(ValidationError, match="was not uploaded to this repository"):
        commit_create(
            repo=repo, user=alice, ref="refs/heads/main", operations=[AddLfsFile("w.bin", claimed, 120_000)],
            summary="claim",
        )  # fmt: skip


def test_a_forged_file_keeps_the_honest_files_of_its_shard_out_too(repo):
    honest = build_file(random_bytes(70_000, seed=7))
    forged = build_file(random_bytes(70_000, seed=8), claimed_sha256="ab" * 32)
    _store(honest)
    _store(forged)
    with pytest.raises(XetSha256Mismatch):
        shard_receive(repo=repo, stream=io.BytesIO(shard_body(honest.shard_file, forged.shard_file)))
    assert XetFile.objects.count() == 0
    assert RepoBlob.objects.filter(repo=repo, blob__sha256=honest.sha256).count() == 0
    assert [p for p in staging_dir().rglob("*") if p.is_file()] == []


def test_shard_naming_a_missing_xorb_is_refused(repo):
    built = build_file(random_bytes(90_000, seed=9))
    with pytest.raises(XetMissingXorb, match=f"xorb {built.xorb_hash} is not stored"):
        shard_receive(repo=repo, stream=io.BytesIO(shard_body(built.shard_file)))
    assert XetFile.objects.count() == 0
    assert Blob.objects.filter(sha256=built.sha256).count() == 0


def test_wrong_verification_hash_is_refused(repo):
    built = build_file(random_bytes(90_000, seed=10))
    _store(built)
    bad = ShardFile(built.shard_file.file_hash, built.shard_file.terms, (bytes(32),), built.shard_file.sha256_raw)
    with pytest.raises(XetVerificationHashMismatch):
        shard_receive(repo=repo, stream=io.BytesIO(shard_body(bad)))
    assert XetFile.objects.count() == 0


def test_a_known_file_with_another_sha256_claim_is_refused(repo, alice):
    built = build_file(random_bytes(80_000, seed=11))
    _store(built)
    shard_receive(repo=repo, stream=io.BytesIO(shard_body(built.shard_file)))
    other = repo_create(user=alice, namespace=alice.namespace, name="other", repo_type=RepoType.MODEL)
    claim = build_file(built.content, claimed_sha256="cd" * 32)
    with pytest.raises(XetSha256Mismatch, match=f"has sha256 {built.sha256}, the shard declares {'cd' * 32}"):
        shard_receive(repo=other, stream=io.BytesIO(shard_body(claim.shard_file)))
    assert RepoBlob.objects.filter(repo=other, blob__sha256=built.sha256).count() == 0


def test_known_file_is_linked_to_another_repository_without_rebuilding(repo, alice, monkeypatch):
    built = build_file(random_bytes(80_000, seed=12))
    _store(built)
    shard_receive(repo=repo, stream=io.BytesIO(shard_body(built.shard_file)))
    other = repo_create(user=alice, namespace=alice.namespace, name="other", repo_type=RepoType.MODEL)
    monkeypatch.setattr(xet_shards, "_rebuild", None)  # calling it would raise TypeError
    outcome = shard_receive(repo=other, stream=io.BytesIO(shard_body(built.shard_file)))
    assert (outcome.registered, outcome.linked, outcome.result) == (0, 1, SHARD_RESULT_SYNCED)
    commit = commit_create(
        repo=other, user=alice, ref="refs/heads/main", operations=[AddLfsFile("w.bin", built.sha256, 80_000)],
        summary="add",
    )  # fmt: skip
    assert commit.changed_paths == ["w.bin"]


def test_xorb_whose_row_was_lost_is_reindexed_from_storage(repo):
    built = build_file(random_bytes(100_000, seed=13))
    _store(built)
    Xorb.objects.all().delete()  # a database restored from before the upload
    outcome = shard_receive(repo=repo, stream=io.BytesIO(shard_body(built.shard_file)))
    assert outcome.registered == 1
    assert list(Xorb.objects.values_list("hash", "chunk_count")) == [(built.xorb_hash, 2)]


@pytest.mark.slow
def test_a_full_xorb_and_its_file_are_handled_in_bounded_memory(repo, tmp_path):
    content = random_bytes(64 * 1024 * 1024 - 8 * 1024, seed=14)
    built = build_file(content, chunk_size=128 * 1024, scheme=CompressionScheme.NONE)
    body_path = tmp_path / "xorb"
    body_path.write_bytes(built.xorb_body)
    shard = shard_body(built.shard_file)
    sha256, xorb_hash = built.sha256, built.xorb_hash
    del content, built
    tracemalloc.start()
    try:
        with open(body_path, "rb") as stream:
            assert xorb_receive(xorb_hash=xorb_hash, stream=stream) is True
        _, xorb_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        outcome = shard_receive(repo=repo, stream=io.BytesIO(shard))
        _, shard_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert outcome.registered == 1
    assert Blob.objects.get(sha256=sha256).size == 64 * 1024 * 1024 - 8 * 1024
    assert xorb_peak < 4 * 1024 * 1024
    assert shard_peak < 4 * 1024 * 1024


# ------------------------------------------------------------------------------------- tokens


def test_token_grants_its_scope_until_it_expires(repo, alice, settings, monkeypatch):
    grant = xet_token_issue(repo=repo, user=alice, api_token=None, scope=XetScope.WRITE, cas_url="http://hub/xet")
    assert grant.cas_url == "http://hub/xet"
    checked = xet_token_check(token=grant.access_token, need=XetScope.WRITE)
    assert (checked.repo.pk, checked.user.pk, checked.scope) == (repo.pk, alice.pk, XetScope.WRITE)
    assert xet_token_check(token=grant.access_token, need=XetScope.READ).scope == XetScope.WRITE
    read = xet_token_issue(repo=repo, user=alice, api_token=None, scope=XetScope.READ, cas_url="http://hub/xet")
    with pytest.raises(PermissionDenied, match="only reads"):
        xet_token_check(token=read.access_token, need=XetScope.WRITE)
    with pytest.raises(Unauthenticated, match="Invalid Xet access token"):
        xet_token_check(token=grant.access_token[:-2] + "xx", need=XetScope.READ)
    later = time.time() + settings.HUB_XET_TOKEN_SECONDS + 1
    monkeypatch.setattr(xet_tokens.time, "time", lambda: later)
    with pytest.raises(Unauthenticated, match="expired"):
        xet_token_check(token=grant.access_token, need=XetScope.READ)


def test_token_dies_with_its_hub_token(repo, alice):
    from hub.models import ApiToken

    make_token(alice, name="cli")
    api_token = ApiToken.objects.get(name="cli")
    grant = xet_token_issue(repo=repo, user=alice, api_token=api_token, scope=XetScope.WRITE, cas_url="http://h/xet")
    assert xet_token_check(token=grant.access_token, need=XetScope.WRITE).user.pk == alice.pk
    token_revoke(user=alice, token_id=api_token.pk)
    with pytest.raises(Unauthenticated, match="was revoked"):
        xet_token_check(token=grant.access_token, need=XetScope.WRITE)


def test_token_follows_the_users_current_rights():
    owner, bob = make_user("owner"), make_user("bob")
    org = make_org("acme", admin=owner, members={"bob": "write"})
    repo = repo_create(user=owner, namespace=org.namespace, name="m", repo_type=RepoType.MODEL, private=True)
    grant = xet_token_issue(repo=repo, user=bob, api_token=None, scope=XetScope.WRITE, cas_url="http://h/xet")
    assert xet_token_check(token=grant.access_token, need=XetScope.WRITE).repo.pk == repo.pk
    membership_remove(actor=owner, organization=org, username="bob")
    with pytest.raises(PermissionDenied, match="no longer visible"):
        xet_token_check(token=grant.access_token, need=XetScope.READ)


def test_pull_request_write_token_needs_only_read_access(repo):
    bob = make_user("bob")
    cas = "http://hub/xet"
    proposal = xet_token_issue(
        repo=repo, user=bob, api_token=None, scope=XetScope.WRITE, cas_url=cas, for_pull_request=True
    )
    assert xet_token_check(token=proposal.access_token, need=XetScope.WRITE).user.pk == bob.pk
    branch = xet_token_issue(repo=repo, user=bob, api_token=None, scope=XetScope.WRITE, cas_url=cas)
    with pytest.raises(PermissionDenied, match="no longer allowed to write to alice/tiny"):
        xet_token_check(token=branch.access_token, need=XetScope.WRITE)
    repo.private = True
    repo.save(update_fields=["private"])
    with pytest.raises(PermissionDenied, match="no longer visible"):
        xet_token_check(token=proposal.access_token, need=XetScope.WRITE)


def test_reconstruction_is_refused_for_a_file_only_in_another_repository(repo, alice):
    secret_repo = repo_create(user=alice, namespace=alice.namespace, name="secret", repo_type=RepoType.MODEL)
    built = build_file(random_bytes(60_000, seed=15))
    _store(built)
    shard_receive(repo=secret_repo, stream=io.BytesIO(shard_body(built.shard_file)))
    assert xet_services.xet_file_readable(repo=secret_repo, file_hash=built.file_hash).sha256 == built.sha256
    with pytest.raises(NotFound, match=f"File {built.file_hash} not found"):
        xet_services.xet_file_readable(repo=repo, file_hash=built.file_hash)
    with pytest.raises(NotFound, match=f"File {'0' * 64} not found"):
        xet_services.xet_file_readable(repo=secret_repo, file_hash="0" * 64)


# --------------------------------------------------------------------------------- collection


def test_collection_keeps_unreferenced_xorbs_for_the_retention_period(repo, settings):
    kept = build_file(random_bytes(50_000, seed=16))
    orphan = build_file(random_bytes(50_000, seed=17))
    _store(kept)
    _store(orphan)
    shard_receive(repo=repo, stream=io.BytesIO(shard_body(kept.shard_file)))
    now = timezone.now()
    assert xet_collect(now=now + timedelta(days=27)) == xet_services.XetCollection(files=0, xorbs=0)
    assert xet_collect(now=now + timedelta(days=29)) == xet_services.XetCollection(files=0, xorbs=1)
    assert list(Xorb.objects.values_list("hash", flat=True)) == [kept.xorb_hash]
    assert blob_storage().exists(xorb_storage_key(orphan.xorb_hash)) is False
    assert blob_storage().exists(xorb_storage_key(kept.xorb_hash)) is True
    # Its file still backs a blob the repository holds, so neither goes, however old.
    assert xet_collect(now=now + timedelta(days=400)) == xet_services.XetCollection(files=0, xorbs=0)


def test_collection_drops_files_no_repository_holds_then_their_xorbs_a_period_later(repo):
    built = build_file(random_bytes(50_000, seed=18))
    _store(built)
    shard_receive(repo=repo, stream=io.BytesIO(shard_body(built.shard_file)))
    RepoBlob.objects.filter(repo=repo, blob__sha256=built.sha256).delete()
    now = timezone.now()
    later = now + timedelta(days=29)
    assert xet_collect(now=later) == xet_services.XetCollection(files=1, xorbs=0)
    assert Xorb.objects.get().last_used_at == later
    assert xet_collect(now=later + timedelta(days=27)) == xet_services.XetCollection(files=0, xorbs=0)
    assert xet_collect(now=later + timedelta(days=29)) == xet_services.XetCollection(files=0, xorbs=1)
    assert Xorb.objects.count() == 0


def test_beat_runs_collection_daily():
    from config.celery import app
    from registry.tasks import xet_collect_task

    assert app.conf.beat_schedule["xet-collect"] == {"task": "registry.tasks.xet_collect_task", "schedule": 86400.0}
    orphan = build_file(random_bytes(20_000, seed=19))
    _store(orphan)
    Xorb.objects.update(last_used_at=timezone.now() - timedelta(days=29))
    assert xet_collect_task() == 1
    assert Xorb.objects.count() == 0
