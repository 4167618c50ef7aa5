"""Submissions: the policy, each admission check with its reason, duplicates and daily limits.
Nothing here executes a run (the transactions of these tests never commit)."""

import json

import pytest

from common.errors import Conflict, PermissionDenied, RateLimited
from evals.leaderboards.choices import EntrySource, EntryState, SubmissionPolicy
from evals.leaderboards.models import Entry
from evals.leaderboards.services.submissions import AdmissionRefused, entry_submit, entry_submit_or_refuse
from hub.models import User
from registry.errors import RepoNotFound
from registry.selectors.revisions import revision_resolve
from tests.frontend.builders import commit_files, make_repo
from tests.training_runner.jobs.conftest import publish_model

pytestmark = pytest.mark.django_db


def test_an_admitted_submission_pins_the_commit_and_queues_the_evaluation(board, alice, base_model):
    entry = entry_submit_or_refuse(board=board, user=alice, model="alice/tiny-base")
    head = revision_resolve(repo=base_model, revision="main").oid
    assert (entry.state, entry.source, entry.model_commit, entry.model_revision) == (
        EntryState.QUEUED,
        EntrySource.SUBMITTED,
        head,
        "main",
    )
    run = entry.run
    assert (run.kind, run.model_commit, run.suite, run.suite_hash) == (
        "evaluation",
        head,
        board.suite,
        board.suite_hash,
    )
    assert (run.dataset_commit, run.suite_file) == (board.suite_commit, "suite.yaml")
    with pytest.raises(Conflict, match=rf"alice/tiny-base@{head[:12]} is already on acme/letters \(entry {entry.pk}\)"):
        entry_submit(board=board, user=alice, model="alice/tiny-base", revision=head)


def _broken(alice, pretrained_dir, name: str, **changes):
    """The tiny model with files replaced (``README__md`` stands for README.md), or removed (None)."""
    files = {p.name: p.read_bytes() for p in sorted(pretrained_dir.iterdir()) if p.is_file() and p.suffix != ".jsonl"}
    for key, value in changes.items():
        path = key.replace("__", ".")
        if value is None:
            files.pop(path)
        else:
            files[path] = value
    repo = make_repo(alice, name)
    commit_files(repo, alice, files)
    return repo


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"README__md": None}, "The model has no card (README.md)."),
        ({"README__md": b"---\ntags: [x]\n---\n# No license\n"}, "The model card does not declare a license."),
        ({"pytorch_model__bin": b"\x80\x04pickled"}, "Pickle-based files are not accepted: pytorch_model.bin."),
        ({"tokenizer__json": None}, "The model has no tokenizer.json."),
        ({"tokenizer__json": b'{"version": "1.0", "model": 7}'}, "tokenizer.json does not load:"),
        ({"config__json": json.dumps({"model_type": "bert"}).encode()}, "cannot be loaded by the training core"),
    ],
)
def test_each_admission_check_refuses_with_its_reason(board, alice, pretrained_dir, changes, reason):
    repo = _broken(alice, pretrained_dir, "broken", **changes)
    with pytest.raises(AdmissionRefused) as error:
        entry_submit_or_refuse(board=board, user=alice, model=repo.repo_id)
    assert error.value.status == 422
    entry = Entry.objects.get()
    assert (entry.state, entry.run_id) == (EntryState.REJECTED, None)
    assert reason in entry.reason
    assert error.value.message == f"Not admitted: {entry.reason}"


def test_a_board_s_size_limit(board, alice, base_model):
    board.max_parameters = 1000
    board.save()
    submission = entry_submit(board=board, user=alice, model="alice/tiny-base")
    assert submission.admitted is False
    assert submission.entry.reason.startswith("The model has ")
    assert submission.entry.reason.endswith(" parameters; acme/letters takes at most 1,000.")


def test_who_may_submit(board, alice, bob, base_model, pretrained_dir):
    bobs = publish_model(bob, "bobs-model", pretrained_dir)
    # Only models you can write to are yours to enter.
    with pytest.raises(PermissionDenied, match="not allowed to write to alice/tiny-base"):
        entry_submit(board=board, user=bob, model="alice/tiny-base")
    with pytest.raises(RepoNotFound):
        entry_submit(board=board, user=bob, model="bob/nothing")
    assert entry_submit(board=board, user=bob, model=bobs.repo_id).admitted
    board.policy = SubmissionPolicy.MEMBERS
    board.save()
    with pytest.raises(PermissionDenied, match=r"Only members of acme may submit to acme/letters\."):
        entry_submit(board=board, user=bob, model=bobs.repo_id, revision="main")
    carol = User.objects.get(username="carol")
    carols = publish_model(carol, "carols-model", pretrained_dir)
    assert entry_submit(board=board, user=carol, model=carols.repo_id).admitted
    board.policy = SubmissionPolicy.OWNER
    board.save()
    with pytest.raises(PermissionDenied, match="Only the owners of acme"):
        entry_submit(board=board, user=carol, model=carols.repo_id)


def test_daily_limits_per_person(board, alice, pretrained_dir):
    board.submissions_per_day = 2
    board.save()
    for name in ("m1", "m2"):
        entry_submit(board=board, user=alice, model=publish_model(alice, name, pretrained_dir).repo_id)
    third = publish_model(alice, "m3", pretrained_dir)
    with pytest.raises(RateLimited) as error:
        entry_submit(board=board, user=alice, model=third.repo_id)
    assert (error.value.status, error.value.retry_after) == (429, 3600)
    assert Entry.objects.count() == 2


def test_the_queue_shows_every_state_over_rest(board, alice, base_model, pretrained_dir):
    from rest_framework.test import APIClient

    from tests.support.factories import make_token

    entry_submit(board=board, user=alice, model="alice/tiny-base")
    _broken(alice, pretrained_dir, "unlicensed", README__md=b"# card\n")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_token(alice)}")
    refused = client.post("/api/v1/leaderboards/acme/letters/submissions", {"model": "alice/unlicensed"}, format="json")
    assert (refused.status_code, refused.json()["code"]) == (422, "admission_refused")
    assert refused.json()["fields"] == {"model": ["The model card does not declare a license."]}
    queue = APIClient().get("/api/v1/leaderboards/acme/letters/submissions").json()
    assert [(e["model"], e["state"], e["source"]) for e in queue] == [
        ("alice/unlicensed", "rejected", "submitted"),
        ("alice/tiny-base", "queued", "submitted"),
    ]
