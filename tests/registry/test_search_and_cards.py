"""Cards indexed on commit, search (full text on PostgreSQL, a fallback on SQLite), filters, sorts,
trending, and the maintenance tasks."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from common.errors import ValidationError
from registry.choices import RepoType
from registry.models import DownloadDay, Repo, RepoTag
from registry.selectors.repos import RepoFilters, repo_list
from registry.services.commits import AddFile, DeleteFile, commit_create
from registry.services.counters import counters_refresh, like_add
from registry.services.repos import repo_create
from registry.storage import stage_bytes
from registry.tasks import repo_stats_refresh
from tests.support.factories import make_user

pytestmark = pytest.mark.django_db

CARD = """---
license: mit
language: [en, fr]
tags: [llama, tiny]
pipeline_tag: text-generation
library_name: transformers
datasets: [alice/wiki-corpus]
base_model: alice/base
---
# Pocket Llama

A compact decoder trained on encyclopedic prose for quick experiments.
"""


def _repo(user, name, card=None, repo_type=RepoType.MODEL, private=False):
    repo = repo_create(user=user, namespace=user.namespace, name=name, repo_type=repo_type, private=private)
    if card is not None:
        commit_create(
            repo=repo, user=user, ref="refs/heads/main", summary="card",
            operations=[AddFile(path="README.md", staged=stage_bytes(card.encode()))],
        )  # fmt: skip
    return Repo.objects.get(pk=repo.pk)


@pytest.fixture
def alice():
    return make_user("alice")


def test_card_metadata_is_indexed_on_commit(alice):
    repo = _repo(alice, "pocket", CARD)
    assert (repo.license, repo.pipeline_tag, repo.library_name) == ("mit", "text-generation", "transformers")
    assert repo.description == "A compact decoder trained on encyclopedic prose for quick experiments."
    assert repo.card_data["datasets"] == ["alice/wiki-corpus"]
    assert set(RepoTag.objects.filter(repo=repo).values_list("tag", flat=True)) == {
        "llama", "tiny", "transformers", "text-generation", "en", "fr", "license:mit",
        "dataset:alice/wiki-corpus", "base_model:alice/base", "base_model:finetune:alice/base",
    }  # fmt: skip
    info = Client().get("/api/models/alice/pocket").json()
    assert info["cardData"]["license"] == "mit"
    assert info["pipeline_tag"] == "text-generation"
    # Deleting the README clears the metadata.
    commit_create(repo=repo, user=alice, ref="refs/heads/main", summary="rm", operations=[DeleteFile(path="README.md")])
    repo.refresh_from_db()
    assert (repo.license, repo.card_data, RepoTag.objects.filter(repo=repo).count()) == ("", {}, 0)


def test_invalid_card_is_refused_with_field_errors(alice):
    repo = _repo(alice, "bad")
    with pytest.raises(ValidationError) as raised:
        commit_create(
            repo=repo, user=alice, ref="refs/heads/main", summary="bad card",
            operations=[AddFile(path="README.md", staged=stage_bytes(b"---\npipeline_tag: dance\n---\n"))],
        )  # fmt: skip
    assert list(raised.value.fields) == ["README.md:pipeline_tag"]
    assert repo.commits.count() == 1


def test_validate_yaml_endpoint(client):
    ok = client.post("/api/validate-yaml", {"content": CARD, "repoType": "model"}, content_type="application/json")
    assert ok.status_code == 200
    assert ok.json()["errors"] == []
    bad = client.post(
        "/api/validate-yaml",
        {"content": "---\nlicense: nope\n---\n", "repoType": "model"},
        content_type="application/json",
    )
    assert bad.status_code == 400
    assert len(bad.json()["errors"]) == 1
    assert "license" in bad.json()["errors"][0]["message"]
    malformed = client.post("/api/validate-yaml", b"{oops", content_type="application/json")
    assert malformed.status_code == 400
    assert malformed.json()["error"].startswith("The request body is not valid JSON")


def _ids(user=None, **filters):
    return [repo.repo_id for repo in repo_list(user=user, filters=RepoFilters(repo_type=RepoType.MODEL, **filters))]


def test_search_filters_and_sorts(alice):
    bob = make_user("bob")
    _repo(alice, "pocket", CARD)
    _repo(bob, "vision-net", CARD.replace("license: mit", "license: apache-2.0").replace("Pocket Llama", "Seer"))
    _repo(alice, "tinystories")
    _repo(alice, "hidden", CARD, private=True)
    _repo(alice, "corpus", repo_type=RepoType.DATASET)
    assert sorted(_ids(search="encyclopedic")) == ["alice/pocket", "bob/vision-net"]
    assert _ids(search="pocket llama") == ["alice/pocket"]
    assert _ids(search="tinyst") == ["alice/tinystories"]
    assert _ids(search="nothing-like-this") == []
    assert _ids(search="encyclopedic", tags=("license:mit",)) == ["alice/pocket"]
    assert sorted(_ids(pipeline_tag="text-generation")) == ["alice/pocket", "bob/vision-net"]
    assert _ids(author="bob") == ["bob/vision-net"]
    assert _ids(license="apache-2.0") == ["bob/vision-net"]
    assert sorted(_ids(language="fr")) == ["alice/pocket", "bob/vision-net"]
    assert sorted(_ids(alice, search="encyclopedic")) == ["alice/hidden", "alice/pocket", "bob/vision-net"]
    like_add(user=bob, repo=Repo.objects.get(name="tinystories"))
    assert _ids(sort="likes")[0] == "alice/tinystories"
    assert _ids(sort="createdAt") == ["alice/tinystories", "bob/vision-net", "alice/pocket"]
    with pytest.raises(ValidationError):
        _ids(sort="sideways")


def test_search_words_match_inside_names_and_owners(alice):
    acme = make_user("acmecorp")
    _repo(acme, "widget")
    _repo(alice, "gadget")
    _repo(alice, "tinystories")
    assert _ids(search="mecor") == ["acmecorp/widget"]  # inside the owner's name only
    assert _ids(search="mecor widg") == ["acmecorp/widget"]  # one word in the owner, one in the name
    assert _ids(search="mecor gadget") == []  # every word must match
    assert _ids(search="adge") == ["alice/gadget"]  # inside the repository's name


@pytest.mark.skipif(connection.vendor != "postgresql", reason="word matching is PostgreSQL's search vector")
def test_card_words_match_whole_but_the_last_as_a_prefix(alice):
    _repo(alice, "pocket", CARD)  # "A compact decoder trained on encyclopedic prose …"
    assert _ids(search="prose encyclo") == ["alice/pocket"]
    assert _ids(search="encyclo prose") == []  # still being typed only at the end
    assert _ids(search="encyclopedic prose") == ["alice/pocket"]


def test_listing_endpoint_filters(alice, client):
    _repo(alice, "pocket", CARD)
    _repo(alice, "plain")
    body = client.get("/api/models?filter=license:mit&filter=llama").json()
    assert [item["id"] for item in body] == ["alice/pocket"]
    assert body[0]["tags"][:2] == ["llama", "tiny"]
    assert [item["id"] for item in client.get("/api/models?search=pocket&full=true").json()] == ["alice/pocket"]
    assert client.get("/api/models?sort=sideways").status_code == 400


def test_trending_and_thirty_day_downloads(alice):
    fresh = _repo(alice, "fresh")
    stale = _repo(alice, "stale")
    DownloadDay.objects.create(repo=fresh, day=timezone.now().date(), count=40)
    DownloadDay.objects.create(repo=stale, day=timezone.now().date() - timedelta(days=45), count=500)
    Repo.objects.filter(pk=stale.pk).update(last_modified=timezone.now() - timedelta(days=60))
    assert counters_refresh() == 2
    fresh.refresh_from_db()
    stale.refresh_from_db()
    assert (fresh.downloads, stale.downloads) == (40, 0)
    assert fresh.trending_score > stale.trending_score
    assert _ids(sort="trendingScore") == ["alice/fresh", "alice/stale"]


def test_repo_stats_task_sums_the_default_branch(alice):
    repo = _repo(alice, "sized", "# hi\n")
    repo_stats_refresh(repo.pk)
    repo.refresh_from_db()
    assert repo.used_storage == len(b"# hi\n") + len(
        Client().get("/alice/sized/resolve/main/.gitattributes").getvalue()
    )


def test_description_is_plain_text(alice):
    repo = _repo(alice, "described", "# Title\n\nTrained with recipe `pretrain_clm` on **wiki** text.\n")
    assert repo.description == "Trained with recipe pretrain_clm on wiki text."


@pytest.mark.parametrize("by_id", [500, 1])
def test_model_tree_lists_the_newest_visible_children(alice, monkeypatch, by_id):
    from registry.selectors import repos as repo_selectors

    monkeypatch.setattr(repo_selectors, "CHILDREN_BY_ID", by_id)  # by ids, or by the subquery past the cap
    base = _repo(alice, "base")
    card = "---\nbase_model: alice/base\n---\n# Fine-tuned\n"
    now = timezone.now()
    for index in range(3):
        child = _repo(alice, f"ft-{index}", card)
        Repo.objects.filter(pk=child.pk).update(last_modified=now - timedelta(hours=3 - index))
    _repo(alice, "secret-ft", card, private=True)
    _repo(alice, "ft-data", card, repo_type=RepoType.DATASET)
    tree = repo_selectors.repo_model_tree(user=None, repo=base, base_models=[])
    assert [repo.repo_id for repo in tree["children"]] == ["alice/ft-2", "alice/ft-1", "alice/ft-0"]
    assert repo_selectors.repo_children_count(user=None, repo=base) == 3
    owned = repo_selectors.repo_model_tree(user=alice, repo=base, base_models=[])["children"]
    assert {repo.repo_id for repo in owned} == {"alice/ft-0", "alice/ft-1", "alice/ft-2", "alice/secret-ft"}
    assert repo_selectors.repo_children_count(user=alice, repo=base) == 4


def test_best_matches_of_each_type_with_their_counts(alice, monkeypatch):
    from registry.selectors import repos as repo_selectors

    for index, repo_type in enumerate([RepoType.MODEL] * 4 + [RepoType.DATASET] * 3 + [RepoType.TUTORIAL]):
        repo = _repo(alice, f"pocket-{index}", repo_type=repo_type)
        Repo.objects.filter(pk=repo.pk).update(trending_score=[1.0, 2.0, 1.0][index % 3])
    _repo(alice, "pocket-secret", private=True)
    _repo(alice, "unrelated")
    for user in (None, alice):
        found = repo_selectors.repo_best_matches(user=user, query="pocket", limit=2)
        every = repo_selectors.repo_best_matches(user=user, query="pocket", limit=10)
        for repo_type in RepoType:
            filters = RepoFilters(repo_type=repo_type, search="pocket")
            listed = [r.repo_id for r in repo_list(user=user, filters=filters)]
            assert sorted(r.repo_id for r in every[repo_type].repos) == sorted(listed)
            # the best two are the first two of all, in the same order
            assert found[repo_type].repos == every[repo_type].repos[:2]
            assert found[repo_type].total == len(listed)
            assert not found[repo_type].capped
    assert found[RepoType.MODEL].total == 5  # alice sees her private one
    monkeypatch.setattr(repo_selectors, "SEARCH_POOL", 3)
    models = repo_selectors.repo_best_matches(user=None, query="pocket", limit=10)[RepoType.MODEL]
    assert (models.total, models.capped, len(models.repos)) == (3, True, 3)
    assert repo_selectors.repo_best_matches(user=None, query="   ", limit=10)[RepoType.MODEL].repos == []


@pytest.mark.skipif(connection.vendor != "postgresql", reason="relevance ranking is PostgreSQL's ts_rank")
def test_best_matches_rank_the_most_trending_matches_by_relevance(alice, monkeypatch):
    from registry.selectors import repos as repo_selectors

    plain = _repo(alice, "plain-pocket")
    wordy = _repo(alice, "pocket-notes", "---\ntags: [pocket]\n---\n# Pocket\n\nA pocket model for pockets.\n")
    buried = _repo(alice, "pocket-pocket", "# Pocket\n\npocket pocket pocket pocket\n")
    Repo.objects.filter(pk=plain.pk).update(trending_score=9.0)
    Repo.objects.filter(pk=wordy.pk).update(trending_score=5.0)
    Repo.objects.filter(pk=buried.pk).update(trending_score=0.0)
    found = repo_selectors.repo_best_matches(user=None, query="pocket", limit=3)[RepoType.MODEL]
    assert found.repos[-1].repo_id == "alice/plain-pocket"  # the most trending, but named once
    assert {r.repo_id for r in found.repos[:2]} == {"alice/pocket-notes", "alice/pocket-pocket"}
    # Only the pool's most trending matches are ranked: the least trending drops out of it.
    monkeypatch.setattr(repo_selectors, "SEARCH_POOL", 2)
    found = repo_selectors.repo_best_matches(user=None, query="pocket", limit=3)[RepoType.MODEL]
    assert [r.repo_id for r in found.repos] == ["alice/pocket-notes", "alice/plain-pocket"]
    assert (found.total, found.capped) == (2, True)


def test_a_pool_walk_that_runs_out_continues_in_the_search_indexes(alice, monkeypatch):
    from registry.selectors import repos as repo_selectors

    # Twelve models: the matches are the least trending, past the walk's bound of the top four.
    for index in range(12):
        repo = _repo(alice, f"pocket-{index}" if index >= 8 else f"other-{index}")
        Repo.objects.filter(pk=repo.pk).update(trending_score=float(12 - index))
    whole = repo_selectors.repo_best_matches(user=None, query="pocket", limit=10)[RepoType.MODEL]
    monkeypatch.setattr(repo_selectors, "POOL_WALK", 4)
    bounded = repo_selectors.repo_best_matches(user=None, query="pocket", limit=10)[RepoType.MODEL]
    assert [r.repo_id for r in bounded.repos] == [r.repo_id for r in whole.repos]
    assert {r.repo_id for r in bounded.repos} == {f"alice/pocket-{index}" for index in range(8, 12)}
    assert (bounded.total, bounded.capped) == (4, False)
    # A pool the walk fills alone, and one it half fills.
    monkeypatch.setattr(repo_selectors, "POOL_WALK", 10)
    monkeypatch.setattr(repo_selectors, "SEARCH_POOL", 1)
    assert repo_selectors.repo_best_matches(user=None, query="pocket", limit=10)[RepoType.MODEL].capped
    monkeypatch.setattr(repo_selectors, "SEARCH_POOL", 3)
    half = repo_selectors.repo_best_matches(user=None, query="pocket", limit=10)[RepoType.MODEL]
    assert (half.total, half.capped, len(half.repos)) == (3, True, 3)
    # The planner's settings come back after the bitmap-only query.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW enable_indexscan")
            assert cursor.fetchone()[0] == "on"


def test_a_searched_listing_counts_up_to_the_cap(alice, monkeypatch):
    from registry.selectors import repos as repo_selectors

    for index in range(5):
        _repo(alice, f"pocket-{index}")
    _repo(alice, "unrelated")
    client = Client()
    body = client.get("/api/v1/repos?type=model&search=pocket&page_size=2").json()
    assert (body["count"], body["count_capped"]) == (5, False)
    assert "count_capped" not in client.get("/api/v1/repos?type=model").json()
    monkeypatch.setattr(repo_selectors, "SEARCH_COUNT_CAP", 3)
    body = client.get("/api/v1/repos?type=model&search=pocket&page_size=2").json()
    assert (body["count"], body["count_capped"], len(body["results"])) == (3, True, 2)
    last = client.get("/api/v1/repos?type=model&search=pocket&page_size=2&page=2").json()
    assert (len(last["results"]), last["next"]) == (1, None)  # pages end at the cap
    assert client.get("/api/v1/repos?type=model").json()["count"] == 6
    page = client.get("/models?search=pocket").content.decode()
    assert '<span class="muted count" id="result-count">3+</span>' in page
    assert 'id="results-capped"' in page
    assert 'id="results-capped"' not in client.get("/models?search=unrelated").content.decode()
