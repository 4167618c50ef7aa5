"""Boards end to end, with runs executed by the inline worker as their transactions commit: the
board's numbers are the runs' numbers; ranks come with intervals; enrolled models are evaluated
again when their default branch moves or a card names the board; a pull request gets its delta;
a re-run reproduces; contamination and flags show; results verify."""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.test import Client
from rest_framework.test import APIClient

from community.models import Discussion
from community.services.discussions import pull_request_propose
from evals.harness.signing import verify
from evals.leaderboards.choices import EntrySource, EntryState
from evals.leaderboards.models import Entry
from evals.leaderboards.services.scoring import board_rank
from evals.leaderboards.services.submissions import entry_submit_or_refuse
from evals.leaderboards.services.trust import entry_flag, entry_rerun
from registry.models import Repo
from registry.selectors.revisions import revision_resolve
from registry.services.commits import AddFile
from registry.storage import stage_bytes
from tests.frontend.builders import commit_files
from tests.support.factories import make_token
from tests.training_runner.jobs.conftest import publish_model

pytestmark = pytest.mark.django_db(transaction=True)


def _finished(entry: Entry) -> Entry:
    entry.refresh_from_db()
    assert entry.state == EntryState.FINISHED, entry.reason
    return entry


def test_two_models_ranked_with_the_runs_numbers_and_their_evidence(board, alice, base_model, second_dir):
    from safetensors.torch import load_file

    tensors = load_file(second_dir / "model.safetensors")
    parameters = sum(t.numel() for name, t in tensors.items())
    publish_model(alice, "tiny-second", second_dir)
    first = _finished(entry_submit_or_refuse(board=board, user=alice, model="alice/tiny-base"))
    second = _finished(entry_submit_or_refuse(board=board, user=alice, model="alice/tiny-second"))

    for entry in (first, second):
        results = entry.run.results
        assert entry.scores["*:acc"]["value"] == results["suite"]["aggregate"]["value"]
        assert entry.scores["letters:acc"]["value"] == results["tasks"]["letters"]["metrics"]["acc"]["value"]
        assert entry.scores["letters:acc"]["ci95"] == results["tasks"]["letters"]["metrics"]["acc"]["ci95"]
        # Chance is one in two (every item has two choices).
        assert entry.scores["letters:acc"]["normalized"] == (entry.scores["letters:acc"]["value"] - 0.5) / 0.5
        assert (entry.current, entry.license, entry.architecture) == (True, "apache-2.0", "llama")
        assert entry.parameters == parameters
        assert entry.rank_low <= entry.rank <= entry.rank_high
    board.refresh_from_db()
    assert board.chance == {"*:acc": 0.5, "letters:acc": 0.5}

    # Ranks are reproducible for a fixed seed.
    before = sorted(Entry.objects.filter(board=board).values_list("pk", "rank", "rank_low", "rank_high"))
    board_rank(board_id=board.pk)
    assert sorted(Entry.objects.filter(board=board).values_list("pk", "rank", "rank_low", "rank_high")) == before

    page = Client().get(board.web_path)
    assert page.status_code == 200
    html = page.content.decode()
    assert f'<tr data-entry="{first.pk}">' in html
    assert f'href="/runs/{first.run_id}/samples?task=letters"' in html
    exported = list(csv.reader(io.StringIO(Client().get(f"{board.web_path}.csv").content.decode())))
    assert exported[0][:4] == ["rank", "rank_low", "rank_high", "model"]
    assert {row[3] for row in exported[1:]} == {"alice/tiny-base", "alice/tiny-second"}
    as_json = Client().get(f"{board.web_path}.json").json()
    assert {e["model"]: e["scores"]["*:acc"]["value"] for e in as_json["entries"]} == {
        "alice/tiny-base": first.scores["*:acc"]["value"],
        "alice/tiny-second": second.scores["*:acc"]["value"],
    }
    compare = APIClient().get(f"/api/v1/leaderboards/acme/letters/compare?a={first.pk}&b={second.pk}").json()
    assert [(d["task"], d["metric"], d["n"]) for d in compare["deltas"]] == [
        ("letters", "acc", 4),
        ("letters", "acc_norm", 4),
    ]
    assert compare["deltas"][0]["delta"] == first.scores["letters:acc"]["value"] - second.scores["letters:acc"]["value"]
    for item in compare["disagreements"]:
        assert item["a"] != item["b"]
    # The results are signed by the hub.
    key = Client().get("/.well-known/llm-hub/results-signing-key.pem").content
    assert verify(first.run.signed_results, public_pem=key)["source"]["model"]["repo"] == "alice/tiny-base"


def test_enrolled_models_are_evaluated_again_when_their_branch_moves(board, alice, base_model, second_dir):
    first = _finished(entry_submit_or_refuse(board=board, user=alice, model="alice/tiny-base"))
    weights = (second_dir / "model.safetensors").read_bytes()
    head = commit_files(base_model, alice, {"model.safetensors": weights}, summary="Better weights").commit.oid

    again = Entry.objects.get(board=board, model_commit=head)
    again = _finished(again)
    assert (again.source, again.current) == (EntrySource.MAIN_MOVED, True)
    first.refresh_from_db()
    assert first.current is False
    assert [e.pk for e in Entry.objects.filter(board=board, current=True)] == [again.pk]


def test_a_card_that_names_a_board_enrols_the_model(board, alice, pretrained_dir):
    repo = publish_model(alice, "enrolled", pretrained_dir)
    readme = (pretrained_dir / "README.md").read_text().replace("---\n", "---\nleaderboards: [acme/letters]\n", 1)
    head = commit_files(repo, alice, {"README.md": readme.encode()}, summary="Enter acme/letters").commit.oid
    entry = _finished(Entry.objects.get(board=board, model_repo=repo))
    assert (entry.source, entry.model_commit, entry.submitter.username) == (EntrySource.CARD, head, "alice")


def test_a_pull_request_changing_the_weights_shows_its_delta(board, alice, bob, base_model, second_dir):
    base = _finished(entry_submit_or_refuse(board=board, user=alice, model="alice/tiny-base"))
    weights = (second_dir / "model.safetensors").read_bytes()
    pr = pull_request_propose(
        repo=base_model,
        user=bob,
        branch="main",
        summary="Train longer",
        operations=[AddFile(path="model.safetensors", staged=stage_bytes(weights))],
    )
    entry = _finished(Entry.objects.get(board=board, pull_request=pr.num))
    assert (entry.source, entry.current, entry.submitter.username) == (EntrySource.PULL_REQUEST, False, "bob")
    assert entry.delta["base_entry"] == base.pk
    rows = {(r["task"], r["metric"]): r for r in entry.delta["rows"]}
    acc = rows[("letters", "acc")]
    assert acc["delta"] == entry.scores["letters:acc"]["value"] - base.scores["letters:acc"]["value"]
    assert acc["ci95"][0] <= acc["delta"] <= acc["ci95"][1]
    page = Client().get(f"/alice/tiny-base/discussions/{pr.num}").content.decode()
    assert 'id="leaderboard-delta"' in page
    assert "acme/letters" in page


def test_a_rerun_reproduces_and_flags_open_a_public_discussion(board, alice, bob, base_model):
    entry = _finished(entry_submit_or_refuse(board=board, user=alice, model="alice/tiny-base"))
    rerun = _finished(entry_rerun(entry=entry, user=alice))
    entry.refresh_from_db()
    assert (entry.reproduced, rerun.reason, rerun.current) == (True, "Reproduced every item.", False)
    assert entry.current is True

    flag = entry_flag(entry=entry, user=bob, reason="The letters suite leaks into the training data.")
    discussion = Discussion.objects.get(repo=base_model, num=flag.discussion_num)
    assert discussion.title == "Leaderboard flag on acme/letters"
    entry.refresh_from_db()
    assert entry.flagged is True
    hidden = APIClient().get("/api/v1/leaderboards/acme/letters?hide_flagged=1").json()["entries"]
    assert hidden == []


def test_contamination_with_the_declared_training_data_is_flagged(board, alice, pretrained_dir):
    from registry.choices import RepoType
    from tests.frontend.builders import make_repo

    leaked = make_repo(alice, "leaked", repo_type=RepoType.DATASET)
    text = "Q: Which letter comes after alpha?\nA: beta\n\nQ: Which letter comes after gamma?\nA: delta\n"
    commit_files(leaked, alice, {"train.txt": text.encode()})
    readme = re.sub(
        r"^datasets:.*$", "datasets: [alice/leaked]", (pretrained_dir / "README.md").read_text(), count=1, flags=re.M
    )
    repo = publish_model(alice, "contaminated", pretrained_dir)
    commit_files(repo, alice, {"README.md": readme.encode()})
    entry = _finished(entry_submit_or_refuse(board=board, user=alice, model="alice/contaminated"))
    assert entry.contamination["datasets"] == [
        {"repo": "alice/leaked", "commit": revision_resolve(repo=leaked, revision="main").oid}
    ]
    assert (entry.contamination["items"], entry.contamination["total"], entry.contamination["n"]) == (2, 4, 8)
    assert entry.contamination["rate"] == 0.5
    assert Repo.objects.get(name="contaminated").card_data["datasets"][0] == "alice/leaked"


def test_submitting_over_rest_and_the_model_page_positions(board, alice, base_model):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_token(alice)}")
    created = client.post("/api/v1/leaderboards/acme/letters/submissions", {"model": "alice/tiny-base"}, format="json")
    assert created.status_code == 201, created.json()
    entry = _finished(Entry.objects.get(pk=created.json()["id"]))
    page = Client().get("/alice/tiny-base").content.decode()
    assert 'id="leaderboard-positions"' in page
    assert f'<a href="{board.web_path}">Letters</a>' in page
    assert entry.rank == 1
