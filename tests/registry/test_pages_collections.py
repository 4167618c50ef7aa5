"""Collection pages: browse, create, read, edit items and settings, upvote, delete; visibility and queries."""

import pytest
from django.test import Client

from evals.leaderboards.services.boards import leaderboard_create
from registry.choices import RepoType
from registry.models import Collection, CollectionItem, Repo
from registry.services.collections import collection_create, collection_item_add
from tests.frontend.builders import fast_passwords, make_repo  # noqa: F401
from tests.support.factories import make_org

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_passwords")]


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def picks(alice):
    """alice's public "Picks": a model with a note, then a dataset."""
    make_repo(alice, "tiny")
    make_repo(alice, "corpus", repo_type=RepoType.DATASET)
    collection = collection_create(user=alice, namespace=alice.namespace, title="Picks", description="Hand-picked")
    collection_item_add(user=alice, collection=collection, kind="model", item_id="alice/tiny", note="Start <here>")
    collection_item_add(user=alice, collection=collection, kind="dataset", item_id="alice/corpus")
    return collection


def _keys(collection) -> list[str]:
    return list(CollectionItem.objects.filter(collection=collection).order_by("position").values_list("key", flat=True))


def test_the_list_page_shows_visible_collections_with_their_first_items(picks, alice, bob):
    collection_create(user=alice, namespace=alice.namespace, title="Drafts", private=True)
    html = Client().get("/collections").content.decode()
    assert f'<a href="/collections/{picks.slug}">Picks</a>' in html
    assert '<li><span class="badge">model</span> <a href="/alice/tiny">alice/tiny</a></li>' in html
    assert '<li><span class="badge">dataset</span> <a href="/datasets/alice/corpus">alice/corpus</a></li>' in html
    assert "Drafts" not in html
    assert "Drafts" in logged_in(alice).get("/collections?owner=alice").content.decode()
    assert "Drafts" not in logged_in(bob).get("/collections?owner=alice").content.decode()
    assert '<a href="/collections">Collections</a>' in html  # the header links here
    profile = Client().get("/alice").content.decode()
    assert '<a href="/collections?owner=alice" id="profile-collections">Collections</a>' in profile


def test_the_list_page_query_count_does_not_grow(picks, alice, django_assert_num_queries):
    for index in range(5):
        collection = collection_create(user=alice, namespace=alice.namespace, title=f"More {index}")
        collection_item_add(user=alice, collection=collection, kind="model", item_id="alice/tiny")
    with django_assert_num_queries(4):  # the collections, their items, then the models and the datasets
        response = Client().get("/collections?sort=upvotes")
    assert response.content.decode().count('class="repo-card"') == 6


def test_the_collection_page_shows_items_in_order_with_notes(picks, alice):
    response = Client().get(picks.web_path)
    assert response.status_code == 200
    html = response.content.decode()
    assert '<h1 id="collection-title">Picks</h1>' in html
    assert '<p id="collection-description">Hand-picked</p>' in html
    assert html.index('href="/alice/tiny"') < html.index('href="/datasets/alice/corpus"')
    assert '<p class="repo-card-desc collection-note">Start &lt;here&gt;</p>' in html
    assert "collection-settings-form" not in html  # readers see no editing forms
    # An old slug (the title changed) sends readers to the current one.
    old = f"/collections/alice/old-title-{picks.key}"
    assert Client().get(old).headers["Location"] == picks.web_path


def test_creating_a_collection_from_the_page(alice):
    org = make_org("acme", admin=alice)
    client = logged_in(alice)
    form = client.get("/collections/new").content.decode()
    assert '<option value="alice">alice</option>' in form
    assert '<option value="acme">acme</option>' in form
    response = client.post(
        "/collections/new", {"owner": "acme", "title": "Team picks", "description": "", "visibility": "private"}
    )
    created = Collection.objects.get()
    assert (created.namespace, created.title, created.private) == (org.namespace, "Team picks", True)
    assert response.headers["Location"] == created.web_path
    again = client.post("/collections/new", {"owner": "acme", "title": "team PICKS", "visibility": "public"})
    assert again.status_code == 400
    assert "acme already has a collection called &#x27;team PICKS&#x27;." in again.content.decode()
    assert Client().get("/collections/new").status_code == 302  # anonymous: to the log-in page


def test_editing_items_notes_order_and_settings(picks, alice):
    client = logged_in(alice)
    make_repo(alice, "guide", repo_type=RepoType.TUTORIAL)
    added = client.post(f"{picks.web_path}/items", {"type": "tutorial", "item": "alice/guide", "note": "Read first"})
    assert added.status_code == 302
    tiny, corpus, guide = _keys(picks)
    client.post(f"{picks.web_path}/items/{guide}", {"action": "up"})
    assert _keys(picks) == [tiny, guide, corpus]
    client.post(f"{picks.web_path}/items/{tiny}", {"action": "down"})
    assert _keys(picks) == [guide, tiny, corpus]
    client.post(f"{picks.web_path}/items/{corpus}", {"action": "note", "note": "Its data"})
    client.post(f"{picks.web_path}/items/{tiny}", {"action": "remove"})
    assert list(CollectionItem.objects.filter(collection=picks).values_list("key", "note")) == [
        (guide, "Read first"),
        (corpus, "Its data"),
    ]
    missing = client.post(f"{picks.web_path}/items", {"type": "model", "item": "alice/missing"})
    assert missing.status_code == 400
    assert "No model &#x27;alice/missing&#x27; was found." in missing.content.decode()

    renamed = client.post(
        f"{picks.web_path}/settings", {"title": "Best picks", "description": "Updated", "visibility": "private"}
    )
    picks.refresh_from_db()
    assert (picks.title, picks.description, picks.private) == ("Best picks", "Updated", True)
    assert renamed.headers["Location"] == f"/collections/alice/best-picks-{picks.key}"
    html = client.get(picks.web_path).content.decode()
    assert 'id="collection-settings-form"' in html
    assert '<h1 id="collection-title">Best picks <span class="badge badge-private">Private</span></h1>' in html


def test_others_cannot_edit_and_private_collections_are_not_found(picks, alice, bob):
    client = logged_in(bob)
    tiny = _keys(picks)[0]
    assert client.post(f"{picks.web_path}/items/{tiny}", {"action": "remove"}).status_code == 403
    assert client.post(f"{picks.web_path}/delete").status_code == 403
    assert CollectionItem.objects.filter(collection=picks).count() == 2
    hidden = collection_create(user=alice, namespace=alice.namespace, title="Hidden", private=True)
    assert client.get(hidden.web_path).status_code == 404
    assert Client().get(hidden.web_path).status_code == 404
    assert logged_in(alice).get(hidden.web_path).status_code == 200


def test_upvotes_count_once_per_person(picks, alice, bob):
    client = logged_in(bob)
    client.post(f"{picks.web_path}/upvote", {"action": "upvote"})
    client.post(f"{picks.web_path}/upvote", {"action": "upvote"})
    logged_in(alice).post(f"{picks.web_path}/upvote", {"action": "upvote"})
    picks.refresh_from_db()
    assert picks.upvotes == 2
    html = client.get(picks.web_path).content.decode()
    assert 'aria-pressed="true"' in html
    assert '<span class="like-count" id="upvote-count" aria-label="upvotes">2</span>' in html
    client.post(f"{picks.web_path}/upvote", {"action": "withdraw"})
    picks.refresh_from_db()
    assert picks.upvotes == 1
    anonymous = Client().post(f"{picks.web_path}/upvote", {"action": "upvote"})
    assert anonymous.status_code == 302
    assert anonymous.headers["Location"].startswith("/login")


def test_deleting_a_collection(picks, alice):
    response = logged_in(alice).post(f"{picks.web_path}/delete")
    assert response.headers["Location"] == "/collections?owner=alice"
    assert Collection.objects.count() == 0
    assert CollectionItem.objects.count() == 0


def test_an_item_whose_repository_turned_private_is_hidden_from_readers(picks, alice):
    Repo.objects.filter(name="tiny").update(private=True)
    assert 'href="/alice/tiny"' not in Client().get(picks.web_path).content.decode()
    assert 'href="/alice/tiny"' in logged_in(alice).get(picks.web_path).content.decode()


def test_adding_a_repository_to_a_collection_from_its_page(picks, alice, bob):
    team = collection_create(user=alice, namespace=alice.namespace, title="Team", private=True)
    client = logged_in(alice)
    assert 'id="action-collect" href="/collections/add?type=model&amp;item=alice/tiny"' in (
        client.get("/alice/tiny").content.decode()
    )
    form = client.get("/collections/add?type=dataset&item=alice/corpus").content.decode()
    assert '<a href="/datasets/alice/corpus" id="add-to-target">alice/corpus</a>' in form
    assert f'<option value="{picks.key}">alice / Picks</option>' in form
    assert f'<option value="{team.key}">alice / Team</option>' in form
    added = client.post(
        "/collections/add?type=dataset&item=alice/corpus", {"collection": team.key, "note": "For the team"}
    )
    assert added.headers["Location"] == team.web_path
    assert list(team.items.values_list("kind", "repo__name", "note")) == [("dataset", "corpus", "For the team")]
    again = client.post("/collections/add?type=dataset&item=alice/corpus", {"collection": team.key})
    assert again.status_code == 400
    assert "alice/corpus is already in collection" in again.content.decode()
    # bob may not put anything in alice's collections, nor see what is not his to pick.
    other = logged_in(bob).get("/collections/add?type=model&item=alice/tiny").content.decode()
    assert "You have no collections yet." in other
    refused = logged_in(bob).post("/collections/add?type=model&item=alice/tiny", {"collection": picks.key})
    assert refused.status_code == 400
    assert logged_in(bob).get("/collections/add?type=space&item=alice/app").status_code == 400
    assert Client().get("/collections/add?type=model&item=alice/tiny").status_code == 302


def test_a_leaderboard_goes_into_a_collection_from_its_page(picks, alice, shared_data):
    lab = make_org("lab", admin=alice)
    board = leaderboard_create(
        user=alice, namespace=lab.namespace, name="mc", title="Multiple choice", suite="bigbench_mc"
    )
    client = logged_in(alice)
    link = 'id="action-collect" href="/collections/add?type=leaderboard&amp;item=lab/mc"'
    assert link in client.get(board.web_path).content.decode()
    client.post("/collections/add?type=leaderboard&item=lab/mc", {"collection": picks.key, "note": "Where they rank"})
    html = Client().get(picks.web_path).content.decode()
    assert '<span class="badge">leaderboard</span> <a href="/leaderboards/lab/mc">Multiple choice</a>' in html
    assert "Where they rank" in html
