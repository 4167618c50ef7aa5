"""``make run``'s demo content: built through the real services, its models queued as hub training
runs (trained, published and evaluated by the workers once the site is up), idempotent."""

from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from community.models import BranchRule, CommitCheck, Discussion
from community.rules import merge_requirements_missing
from evals.leaderboards.models import Leaderboard
from frontend.demo import demo_seed
from hub.models import Organization, User
from registry.models import GitCommit, Repo
from registry.selectors.revisions import revision_resolve
from registry.trees import tree_files
from training_runner.jobs.models import Run

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def _files(repo_id: str, repo_type: str) -> set[str]:
    namespace, name = repo_id.split("/")
    repo = Repo.objects.get(namespace__name=namespace, name=name, type=repo_type)
    return {f.path for f in tree_files(revision_resolve(repo=repo, revision="main").commit.tree_oid)}


def test_demo_content_is_complete_and_idempotent():
    if not (Path(settings.HUB_SHARED_DATA) / "wiki" / "train.txt").exists():
        pytest.skip(f"the offline data kit is not at {settings.HUB_SHARED_DATA} (set HUB_SHARED_DATA)")
    messages = []
    demo_seed(log=messages.append)
    assert set(User.objects.values_list("username", flat=True)) == {"alice", "bob", "carol"}
    assert set(Organization.objects.values_list("namespace__name", flat=True)) == {"open-research", "eval-guild"}
    repos = set(Repo.objects.values_list("namespace__name", "name", "type"))
    assert repos == {
        ("eval-guild", "wiki-mini", "dataset"),
        ("eval-guild", "bigbench-mc", "dataset"),
        ("eval-guild", "lee-news", "dataset"),
        ("alice", "train-a-tiny-llama", "tutorial"),
    }
    assert {"train.txt", "valid.txt", "test.txt", "README.md"} <= _files("eval-guild/wiki-mini", "dataset")
    assert {"news.txt", "README.md", "NOTICE"} == _files("eval-guild/lee-news", "dataset") - {".gitattributes"}

    # The models are the workers' to train: queued runs, validated and pinned like anyone's.
    runs = {run.output_repo_name: run for run in Run.objects.all()}
    assert set(runs) == {"open-research/pocket-llama", "open-research/pocket-gpt2", "open-research/pocket-bert"}
    llama, gpt2, bert = (runs[f"open-research/{n}"] for n in ("pocket-llama", "pocket-gpt2", "pocket-bert"))
    assert (llama.state, llama.user.username, llama.recipe, llama.dataset_repo_name) == (
        "queued",
        "alice",
        "pretrain_clm",
        "eval-guild/wiki-mini",
    )
    # The decoders' cards enrol them on both demo boards: each is evaluated once it is published.
    boards = ["eval-guild/bigbench-mc", "eval-guild/wikitext"]
    assert llama.config["card"]["metadata"] == gpt2.config["card"]["metadata"] == {"leaderboards": boards}
    assert (gpt2.config["model"]["arch"], gpt2.config["data"]["txt_mode"]) == ("gpt2", "line")
    assert (bert.recipe, bert.config["card"]["metadata"]) == ("pretrain_mlm", {})
    assert sorted(Leaderboard.objects.values_list("namespace__name", "name", "suite")) == [
        ("eval-guild", "bigbench-mc", "bigbench_mc"),
        ("eval-guild", "wikitext", "wikitext_ppl"),
    ]
    assert llama.site_url == settings.HUB_SITE_URL

    wiki = Repo.objects.get(name="wiki-mini")
    pr, question = Discussion.objects.filter(repo=wiki).order_by("num")
    assert (pr.is_pull_request, pr.status, pr.author.username, question.status) == (True, "merged", "carol", "open")
    assert revision_resolve(repo=wiki, revision="main").oid == pr.merge_commit_oid
    assert wiki.likes == 2
    page = Client().get("/datasets/eval-guild/wiki-mini")
    assert page.status_code == 200
    assert "Usage" in page.content.decode()
    assert f'<tr data-run="{llama.pk}">' in Client().get("/runs").content.decode()

    # A protected branch: bob's pull request on the tutorial waits for alice, its code owner, with
    # the hub's checks green.
    tutorial = Repo.objects.get(name="train-a-tiny-llama")
    [waiting] = Discussion.objects.filter(repo=tutorial)
    assert (waiting.is_pull_request, waiting.status, waiting.author.username) == (True, "open", "bob")
    head = revision_resolve(repo=tutorial, revision=waiting.git_reference).oid
    checks = CommitCheck.objects.filter(repo=tutorial, commit_oid=head)
    assert sorted((c.name, c.state) for c in checks) == [("card-lint", "success"), ("malware-scan", "success")]
    missing = merge_requirements_missing(discussion=waiting, user=User.objects.get(username="alice"))
    assert len(missing) == 2
    assert missing[0].startswith("1 approving review from people with write access (required_approvals), 0 given")
    assert missing[1] == "an approval from a code owner of 03-training.md (alice) (code_owners)"

    counts = (Repo.objects.count(), GitCommit.objects.count(), Discussion.objects.count(), Run.objects.count())
    assert BranchRule.objects.count() == 1
    demo_seed(log=messages.append)
    assert (Repo.objects.count(), GitCommit.objects.count(), Discussion.objects.count(), Run.objects.count()) == counts
