"""One search over the hub: ``/search`` groups models, datasets, tutorials, people and
organizations; ``/search/suggest`` feeds the header's suggestions; both respect visibility."""

import pytest
from django.db import connection
from django.test import Client

from registry.choices import RepoType
from registry.models import Repo
from tests.frontend.builders import card, commit_files, fast_passwords, make_repo  # noqa: F401
from tests.support.factories import make_org, make_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_passwords")]


@pytest.fixture
def hub():
    alice = make_user("alice", fullname="Alice Llama-Trainer")
    make_user("bob")
    make_org("llama-lab", admin=alice)
    model = make_repo(alice, "tiny-llama")
    # Every match names "llama" once, so PostgreSQL's relevance ties and trending orders them.
    commit_files(model, alice, {"README.md": card("pipeline_tag: text-generation", "# Tiny model\n")})
    other = make_repo(alice, "big-llama")
    Repo.objects.filter(pk=other.pk).update(trending_score=5.0)
    data = make_repo(alice, "llama-chats", repo_type=RepoType.DATASET)
    commit_files(data, alice, {"README.md": b"# Chats\n"})
    make_repo(alice, "llama-course", repo_type=RepoType.TUTORIAL)
    secret = make_repo(alice, "secret-llama", private=True)
    commit_files(secret, alice, {"README.md": b"# Hidden\n"})
    make_repo(alice, "unrelated", repo_type=RepoType.DATASET)
    return alice


def test_search_page_groups_every_kind(hub):
    response = Client().get("/search?q=LLAMA")
    assert response.status_code == 200
    results = response.context["results"]
    groups = {group.repo_type: [repo.repo_id for repo in group.repos] for group in results.groups}
    assert groups == {
        RepoType.MODEL: ["alice/big-llama", "alice/tiny-llama"],
        RepoType.DATASET: ["alice/llama-chats"],
        RepoType.TUTORIAL: ["alice/llama-course"],
    }
    assert [namespace.name for namespace in results.namespaces] == ["alice", "llama-lab"]
    assert results.total == 6
    html = response.content.decode()
    assert '<p id="search-summary">6 results for “LLAMA”.</p>' in html
    assert '<h2 id="search-models-title">Models <span class="muted count">2</span></h2>' in html
    assert '<a class="search-more" href="/datasets?search=LLAMA">Browse and filter the matching dataset →</a>' in html
    assert '<li><a href="/alice">alice</a> <span class="muted">Alice Llama-Trainer</span></li>' in html
    assert '<li><a href="/llama-lab">llama-lab</a> <span class="badge">Organization</span></li>' in html
    assert "secret-llama" not in html
    assert 'action="/search"' in html
    assert 'name="q"' in html


def test_search_shows_private_repositories_to_their_owner(hub):
    client = Client()
    client.force_login(hub)
    groups = client.get("/search?q=llama").context["results"].groups
    assert [repo.repo_id for repo in groups[0].repos] == ["alice/big-llama", "alice/secret-llama", "alice/tiny-llama"]


def test_search_without_words_matches_nothing_and_says_what_to_type(hub):
    response = Client().get("/search?q=%20%20")
    assert response.context["results"].total == 0
    assert '<p class="muted" id="search-summary">Type a few words' in response.content.decode()
    assert Client().get("/search?q=zzz").content.decode().count("0 results for “zzz”.") == 1


def test_search_caps_each_kind_and_links_to_the_rest(hub, settings):
    from frontend import views

    for number in range(views.SEARCH_PAGE_LIMIT + 1):
        make_repo(hub, f"llama-{number:02d}")
    response = Client().get("/search?q=llama")
    models = response.context["results"].groups[0]
    assert (models.total, len(models.repos)) == (views.SEARCH_PAGE_LIMIT + 3, views.SEARCH_PAGE_LIMIT)
    assert (
        f'<a class="search-more" href="/models?search=llama">Browse and filter all {views.SEARCH_PAGE_LIMIT + 3}'
        " matching models →</a>"
    ) in response.content.decode()


def test_counts_stop_at_the_cap_and_say_so(hub, monkeypatch):
    from frontend import views
    from registry.selectors import repos, search

    monkeypatch.setattr(repos, "SEARCH_POOL", views.SEARCH_PAGE_LIMIT + 1)
    monkeypatch.setattr(search, "COUNT_CAP", views.SEARCH_PAGE_LIMIT + 1)
    for number in range(views.SEARCH_PAGE_LIMIT + 1):
        make_repo(hub, f"llama-{number:02d}")
    response = Client().get("/search?q=llama")
    results = response.context["results"]
    models = results.groups[0]
    assert (models.total, models.capped, len(models.repos)) == (views.SEARCH_PAGE_LIMIT + 1, True, 20)
    assert results.capped
    page = response.content.decode()
    assert f"Browse and filter all {views.SEARCH_PAGE_LIMIT + 1}+ matching models" in page
    assert f'Models <span class="muted count">{views.SEARCH_PAGE_LIMIT + 1}+</span>' in page
    monkeypatch.setattr(views, "SUGGESTION_LIMIT", 2)
    monkeypatch.setattr(repos, "SEARCH_POOL", 3)
    groups = Client().get("/search/suggest?q=llama").json()["groups"]
    models = groups[0]
    assert (models["kind"], models["total"], models["capped"], len(models["items"])) == ("model", 3, True, 2)


def test_suggestions_give_the_best_few_of_each_kind(hub, django_assert_num_queries):
    # the pool of each kind's matches (on PostgreSQL the owners the words name first, and each
    # pool's walk bound), the rows shown, and the owners (a page shorter than the limit holds
    # every match, so nothing is counted; suggestions show no tags)
    with django_assert_num_queries(9 if connection.vendor == "postgresql" else 5):
        response = Client().get("/search/suggest?q=llama%20%20")
    assert response.status_code == 200
    assert response.json() == {
        "query": "llama",
        "groups": [
            {"kind": "model", "label": "Models", "total": 2, "capped": False, "items": [
                {"label": "alice/big-llama", "url": "/alice/big-llama", "detail": ""},
                {"label": "alice/tiny-llama", "url": "/alice/tiny-llama", "detail": "text-generation"},
            ]},
            {"kind": "dataset", "label": "Datasets", "total": 1, "capped": False, "items": [
                {"label": "alice/llama-chats", "url": "/datasets/alice/llama-chats", "detail": ""},
            ]},
            {"kind": "tutorial", "label": "Tutorials", "total": 1, "capped": False, "items": [
                {"label": "alice/llama-course", "url": "/tutorials/alice/llama-course", "detail": ""},
            ]},
            {"kind": "namespace", "label": "People and organizations", "total": 2, "capped": False, "items": [
                {"label": "alice", "url": "/alice", "detail": "Alice Llama-Trainer"},
                {"label": "llama-lab", "url": "/llama-lab", "detail": ""},
            ]},
        ],
    }  # fmt: skip
    assert Client().get("/search/suggest?q=bob").json()["groups"] == [
        {"kind": "namespace", "label": "People and organizations", "total": 1, "capped": False,
         "items": [{"label": "bob", "url": "/bob", "detail": ""}]},
    ]  # fmt: skip
    assert Client().get("/search/suggest").json() == {"query": "", "groups": []}


def test_search_is_not_a_name_anyone_can_take():
    from common.errors import ValidationError
    from hub.services.accounts import user_create

    for name in ("search", "password-reset"):
        with pytest.raises(ValidationError):
            user_create(username=name, email=f"{name}@example.org", password="correct-horse-battery")
