"""Home and listing pages: sections, search, filters, sorts, pagination, visibility, query counts."""

import pytest
from django.test import Client

from registry.choices import RepoType
from registry.models import Repo
from registry.selectors.pages import LISTING_PAGE_SIZE
from tests.frontend.builders import card, commit_files, fast_passwords, make_repo  # noqa: F401
from tests.support.factories import make_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_passwords")]


def names(response) -> list[str]:
    return [repo.repo_id for repo in response.context["page"].object_list]


@pytest.fixture
def catalogue():
    alice, bob = make_user("alice"), make_user("bob")
    llama = make_repo(alice, "tiny-llama")
    commit_files(llama, alice, {"README.md": card(
        "license: apache-2.0\npipeline_tag: text-generation\nlibrary_name: transformers\nlanguage: [en]\ntags: [chat]",
        "# Tiny llama\n\nA small chat model.\n")})  # fmt: skip
    bert = make_repo(bob, "mini-bert")
    commit_files(bert, bob, {"README.md": card(
        "license: mit\npipeline_tag: fill-mask\nlibrary_name: transformers\nlanguage: [fr]\ntags: [encoder]",
        "# Mini BERT\n\nMasked language model.\n")})  # fmt: skip
    secret = make_repo(alice, "secret-llama", private=True)
    commit_files(secret, alice, {"README.md": card("license: mit\ntags: [chat]", "# Secret\n")})
    make_repo(bob, "stories", repo_type=RepoType.DATASET)
    Repo.objects.filter(pk=llama.pk).update(downloads=5, likes=1, trending_score=1.0)
    Repo.objects.filter(pk=bert.pk).update(downloads=50, likes=0, trending_score=2.0)
    return alice, bob


def test_listing_shows_public_models_by_trending(catalogue):
    response = Client().get("/models")
    assert response.status_code == 200
    assert names(response) == ["bob/mini-bert", "alice/tiny-llama"]
    html = response.content.decode()
    assert '<span class="muted count" id="result-count">2</span>' in html
    assert "secret-llama" not in html


def test_repository_cards_pluralise_their_counts(catalogue):
    Repo.objects.filter(name="tiny-llama").update(downloads=1, likes=1)
    Repo.objects.filter(name="mini-bert").update(downloads=0, likes=2)
    html = Client().get("/models").content.decode()
    assert '1<span class="visually-hidden"> download</span>' in html
    assert '1<span class="visually-hidden"> like</span>' in html
    assert '0<span class="visually-hidden"> downloads</span>' in html
    assert '2<span class="visually-hidden"> likes</span>' in html


def test_owner_sees_private_models_in_listings(catalogue):
    alice, _bob = catalogue
    client = Client()
    client.force_login(alice)
    assert names(client.get("/models?sort=created")) == ["alice/secret-llama", "bob/mini-bert", "alice/tiny-llama"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("search=llama", ["alice/tiny-llama"]),
        ("search=masked", ["bob/mini-bert"]),
        ("pipeline_tag=fill-mask", ["bob/mini-bert"]),
        ("library=transformers&sort=downloads", ["bob/mini-bert", "alice/tiny-llama"]),
        ("license=apache-2.0", ["alice/tiny-llama"]),
        ("language=fr", ["bob/mini-bert"]),
        ("tag=chat", ["alice/tiny-llama"]),
        ("tag=chat&tag=encoder", []),
        ("author=BOB", ["bob/mini-bert"]),
        ("sort=likes", ["alice/tiny-llama", "bob/mini-bert"]),
        ("sort=updated", ["bob/mini-bert", "alice/tiny-llama"]),
        ("search=secret", []),
    ],
)
def test_listing_filters_and_sorts(catalogue, query, expected):
    assert names(Client().get(f"/models?{query}")) == expected


def test_datasets_and_tutorials_have_their_own_listings(catalogue):
    assert names(Client().get("/datasets")) == ["bob/stories"]
    assert names(Client().get("/tutorials")) == []
    assert "No tutorials match." in Client().get("/tutorials").content.decode()


def test_unknown_sort_is_a_clear_400(catalogue):
    response = Client().get("/models?sort=random")
    assert response.status_code == 400
    assert response.context["error"].message == (
        "Unknown sort 'random': use one of trending, downloads, likes, updated, created."
    )


def test_facets_count_public_repositories(catalogue):
    facets = Client().get("/models").context["facets"]
    assert [(f.value, f.count) for f in facets.pipeline_tags] == [("fill-mask", 1), ("text-generation", 1)]
    assert [(f.value, f.count) for f in facets.libraries] == [("transformers", 2)]
    assert [(f.value, f.count) for f in facets.licenses] == [("apache-2.0", 1), ("mit", 1)]
    assert [(f.value, f.count) for f in facets.languages] == [("en", 1), ("fr", 1)]
    assert [(f.value, f.count) for f in facets.tags] == [("chat", 1), ("encoder", 1)]


def test_active_filters_are_shareable_and_removable(catalogue):
    response = Client().get("/models?tag=chat&license=apache-2.0&search=tiny")
    html = response.content.decode()
    assert response.context["active"] == [
        {"label": "License", "key": "license", "value": "apache-2.0"}, {"label": "Tag", "key": "tag", "value": "chat"},
    ]  # fmt: skip
    assert '<a href="?tag=chat&amp;search=tiny" aria-label="Remove filter License apache-2.0">×</a>' in html
    assert '<a href="?license=apache-2.0&amp;search=tiny" aria-label="Remove filter Tag chat">×</a>' in html
    assert '<input type="hidden" name="tag" value="chat">' in html
    assert '<input type="hidden" name="license" value="apache-2.0">' in html


def test_listing_paginates(catalogue):
    alice, _bob = catalogue
    for number in range(LISTING_PAGE_SIZE):
        make_repo(alice, f"extra-{number:02d}")
    first = Client().get("/models?sort=created")
    assert (len(first.context["page"].object_list), first.context["page"].paginator.num_pages) == (LISTING_PAGE_SIZE, 2)
    assert '<a href="?sort=created&amp;p=2" rel="next">Next →</a>' in first.content.decode()
    second = Client().get("/models?sort=created&p=2")
    assert names(second) == ["bob/mini-bert", "alice/tiny-llama"]


def test_listing_query_count_does_not_grow_with_results(catalogue, django_assert_num_queries):
    alice, _bob = catalogue
    client = Client()
    client.force_login(alice)
    client.get("/models")  # facets are cached after the first view
    # session, user, count, page (the cards show no tags: none are read)
    with django_assert_num_queries(4):
        assert len(client.get("/models").context["page"].object_list) == 3
    for number in range(12):
        repo = make_repo(alice, f"more-{number}")
        commit_files(repo, alice, {"README.md": card(f"tags: [t{number}, chat]", "# More\n")})
    with django_assert_num_queries(4):
        assert len(client.get("/models").context["page"].object_list) == 15


def test_home_shows_trending_and_recent_per_type(catalogue, django_assert_num_queries):
    with django_assert_num_queries(8):  # two per repository type, the latest runs and the leaderboards
        response = Client().get("/")
    sections = {section.repo_type: section for section in response.context["sections"]}
    assert [r.repo_id for r in sections[RepoType.MODEL].trending] == ["bob/mini-bert", "alice/tiny-llama"]
    assert [r.repo_id for r in sections[RepoType.MODEL].recent] == ["bob/mini-bert", "alice/tiny-llama"]
    assert [r.repo_id for r in sections[RepoType.DATASET].recent] == ["bob/stories"]
    assert sections[RepoType.TUTORIAL].trending == []
    html = response.content.decode()
    assert "secret-llama" not in html
    assert "No tutorials yet." in html
    assert "No runs yet." in html
    assert "No leaderboards yet." in html
