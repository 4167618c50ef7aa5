"""``make run``'s demo content: built through the real services, trained by the real core, idempotent."""

from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from frontend.demo import demo_seed
from hub.models import Discussion, Organization, User
from registry.models import GitCommit, Repo
from registry.selectors.revisions import revision_resolve
from registry.trees import tree_files

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
        ("eval-guild", "wiki-mini", "dataset"), ("eval-guild", "bigbench-mc", "dataset"),
        ("open-research", "pocket-llama", "model"), ("open-research", "pocket-bert", "model"),
        ("alice", "train-a-tiny-llama", "tutorial"),
    }  # fmt: skip
    assert {"config.json", "model.safetensors", "tokenizer.json", "README.md"} <= _files(
        "open-research/pocket-llama", "model"
    )
    assert {"train.txt", "valid.txt", "test.txt", "README.md"} <= _files("eval-guild/wiki-mini", "dataset")
    llama = Repo.objects.get(name="pocket-llama")
    assert (llama.pipeline_tag, llama.license, llama.likes) == ("text-generation", "apache-2.0", 2)
    assert llama.card_data["model-index"][0]["results"][0]["metrics"][1]["type"] == "val_bpb"
    assert Repo.objects.get(name="pocket-bert").pipeline_tag == "fill-mask"
    pr, question = Discussion.objects.filter(repo=llama).order_by("num")
    assert (pr.is_pull_request, pr.status, question.status) == (True, "merged", "open")
    assert revision_resolve(repo=llama, revision="main").oid == pr.merge_commit_oid
    page = Client().get("/open-research/pocket-llama")
    assert page.status_code == 200
    assert "Usage" in page.content.decode()

    counts = (Repo.objects.count(), GitCommit.objects.count(), Discussion.objects.count())
    demo_seed(log=messages.append)
    assert (Repo.objects.count(), GitCommit.objects.count(), Discussion.objects.count()) == counts
