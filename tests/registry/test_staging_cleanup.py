"""The staging janitor on the filesystem backend: what abandoned uploads leave in UPLOAD_TEMP_DIR
(LFS staging files, resumable sessions' parts, Xet spools, scratch folders) goes once nothing in it
changed for the age; uploads still under way and promoted blobs stay."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import time
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command

from config.celery import app
from registry.models import Blob
from registry.services.staging import upload_staging_cleanup
from registry.services.uploads import (
    upload_session_complete,
    upload_session_parts,
    upload_session_put_part,
    upload_session_start,
)
from registry.storage import blob_promote, blob_storage, stage_bytes, staging_dir
from registry.tasks import staging_janitor
from registry.xet.store import XorbSpool

pytestmark = pytest.mark.django_db

HOUR = 3600


def _age(path: Path, seconds: float) -> None:
    """Make ``path`` (and everything below it) look last changed ``seconds`` ago."""
    when = time.time() - seconds
    for item in [path, *path.rglob("*")] if path.is_dir() else [path]:
        os.utime(item, (when, when))


def _abandoned_blob(data: bytes) -> Path:
    """Content staged by an upload that never got to promote it (its process went away)."""
    return stage_bytes(data).path


def test_abandoned_files_go_and_uploads_under_way_stay(alice, repo, settings):
    settings.HUB_LFS_THRESHOLD_BYTES = 1
    settings.HUB_MULTIPART_CHUNK_BYTES = 4
    old_blob, fresh_blob = _abandoned_blob(b"old upload"), _abandoned_blob(b"fresh upload")
    _age(old_blob, 2 * HOUR)

    spool = XorbSpool()
    spool.file.write(b"xorb records of a client that went away")
    spool.file.close()
    _age(spool.path, 2 * HOUR)

    # Two resumable sessions: one idle for two hours, one whose first part is old but whose
    # second part just arrived (still under way: it keeps both).
    idle = upload_session_start(repo=repo, user=alice, sha256="a" * 64, size=8)
    upload_session_put_part(session=idle, number=1, stream=io.BytesIO(b"idle"))
    active_sha = hashlib.sha256(b"parttwo!").hexdigest()
    active = upload_session_start(repo=repo, user=alice, sha256=active_sha, size=8)
    upload_session_put_part(session=active, number=1, stream=io.BytesIO(b"part"))
    sessions = staging_dir() / "sessions"
    _age(sessions / str(idle.id), 2 * HOUR)
    _age(sessions / str(active.id), 2 * HOUR)
    upload_session_put_part(session=active, number=2, stream=io.BytesIO(b"two!"))

    # A scan's scratch folder: created long ago, a file written in it just now.
    scratch = staging_dir() / "tmp-scan"
    scratch.mkdir()
    (scratch / "member.pkl").write_bytes(b"extracted")
    _age(scratch, 2 * HOUR)
    (scratch / "member-2.pkl").write_bytes(b"extracted just now")
    empty_fresh = staging_dir() / "tmp-fresh"
    empty_fresh.mkdir()

    # A promoted blob whose file is old: never the janitor's.
    blob = blob_promote(stage_bytes(b"promoted long ago"))
    stored = Path(blob_storage().path(blob.storage_key))
    _age(stored, 30 * 24 * HOUR)

    removed = upload_staging_cleanup(older_than_seconds=HOUR)

    assert (removed.files, removed.objects, removed.multipart_uploads) == (3, 0, 0)
    assert not old_blob.exists()
    assert not spool.path.exists()
    assert not (sessions / str(idle.id)).exists()
    kept = sorted(path.name.split(".")[::2] for path in (sessions / str(active.id)).iterdir())
    assert kept == [["1", "done"], ["2", "done"], ["object"]]  # the object file and its parts' markers
    assert sorted(path.name for path in scratch.iterdir()) == ["member-2.pkl", "member.pkl"]
    assert fresh_blob.exists()
    assert empty_fresh.is_dir()
    assert stored.read_bytes() == b"promoted long ago"
    assert Blob.objects.filter(pk=blob.pk).exists()

    # The idle session resumes from nothing; the active one completes with its parts.
    assert upload_session_parts(session=idle) == []
    assert upload_session_parts(session=active) == [1, 2]
    completed = upload_session_complete(session=active)
    assert completed.sha256 == active_sha
    with blob_storage().open(completed.storage_key, "rb") as handle:
        assert handle.read() == b"parttwo!"

    for leftover in (fresh_blob, *scratch.iterdir()):
        leftover.unlink()


def test_nothing_younger_than_the_age_is_removed():
    paths = [_abandoned_blob(b"one"), _abandoned_blob(b"two")]
    _age(paths[0], 59 * 60)
    assert upload_staging_cleanup(older_than_seconds=HOUR).total == 0
    assert all(path.exists() for path in paths)
    # Measured from ``now``: an hour on, both are old.
    assert upload_staging_cleanup(older_than_seconds=HOUR, now=time.time() + HOUR + 1).files == 2
    assert not any(path.exists() for path in paths)


def test_a_staging_folder_holding_the_blobs_is_refused(settings):
    blobs = staging_dir() / "blobs"
    backend = {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(blobs)}}
    settings.STORAGES = {**settings.STORAGES, "blobs": backend}
    blob = blob_promote(stage_bytes(b"stored where staging is"))
    stored = Path(blob_storage().path(blob.storage_key))
    _age(blobs, 30 * 24 * HOUR)
    with pytest.raises(ImproperlyConfigured, match="the staging janitor would delete stored blobs"):
        upload_staging_cleanup(older_than_seconds=HOUR)
    assert stored.read_bytes() == b"stored where staging is"
    shutil.rmtree(blobs)


def test_a_negative_age_is_refused():
    with pytest.raises(ValueError, match="zero or more seconds"):
        upload_staging_cleanup(older_than_seconds=-1)


def test_the_beat_task_uses_the_configured_age(settings):
    settings.HUB_STAGING_MAX_AGE_SECONDS = HOUR
    old, new = _abandoned_blob(b"old"), _abandoned_blob(b"new")
    _age(old, 2 * HOUR)
    assert staging_janitor() == 1
    assert (old.exists(), new.exists()) == (False, True)
    new.unlink()
    assert app.conf.beat_schedule["staging-janitor"] == {"task": "registry.tasks.staging_janitor", "schedule": 3600.0}


def test_the_management_command_reports_and_checks_its_age(settings):
    settings.HUB_STAGING_MAX_AGE_SECONDS = 24 * HOUR
    old, day_old = _abandoned_blob(b"old"), _abandoned_blob(b"a day old")
    _age(old, 3 * HOUR)
    _age(day_old, 25 * HOUR)
    out = io.StringIO()
    call_command("staging_cleanup", stdout=out)
    assert (old.exists(), day_old.exists()) == (True, False)
    assert "removed 1 staging files or folders, 0 staging objects, aborted 0 multipart uploads" in out.getvalue()

    out = io.StringIO()
    call_command("staging_cleanup", "--max-age-seconds", str(2 * HOUR), stdout=out)
    assert not old.exists()
    assert "removed 1 staging files" in out.getvalue()

    with pytest.raises(CommandError, match="at least 60"):
        call_command("staging_cleanup", "--max-age-seconds", "10")
