"""Collections through the real huggingface_hub client against a live hub (HF_PROTOCOL.md §7.2)."""

import pytest
from huggingface_hub.errors import BadRequestError, HfHubHTTPError

from evals.leaderboards.services.boards import leaderboard_create
from registry.choices import RepoType
from registry.models import Collection
from registry.services.collections import collection_upvote_set
from tests.frontend.builders import make_repo
from tests.support.factories import make_org, make_user

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


def _status(raised) -> int:
    return raised.value.response.status_code


def test_create_fill_reorder_annotate_rename_and_delete_a_collection(hub, shared_data):
    api = hub.api
    api.create_repo("tiny")
    api.create_repo("corpus", repo_type="dataset")
    make_repo(hub.user, "guide", repo_type=RepoType.TUTORIAL)  # the client knows no tutorials
    lab = make_org("lab", admin=hub.user)
    board = leaderboard_create(user=hub.user, namespace=lab.namespace, name="mc", title="MC", suite="bigbench_mc")

    created = api.create_collection("Favourite models", description="What I use")
    key = created.slug.rsplit("-", 1)[1]
    assert created.slug == f"alice/favourite-models-{key}"
    assert len(key) == 24
    assert (created.title, created.description, created.owner["name"], created.owner["type"]) == (
        "Favourite models",
        "What I use",
        "alice",
        "user",
    )
    assert (created.items, created.position, created.private, created.upvotes) == ([], 0, False, 0)
    assert created.url == f"{hub.url}/collections/{created.slug}"

    slug = created.slug
    added = api.add_collection_item(slug, "alice/tiny", "model", note="Start here")
    assert [(i.item_id, i.item_type, i.position, i.note) for i in added.items] == [
        ("alice/tiny", "model", 0, "Start here")
    ]
    api.add_collection_item(slug, "alice/corpus", "dataset")
    api.add_collection_item(slug, "alice/guide", "tutorial")
    api.add_collection_item(slug, board.board_id, "leaderboard", note="Where it ranks")
    with pytest.raises(HfHubHTTPError) as raised:
        api.add_collection_item(slug, "alice/tiny", "model")
    assert _status(raised) == 409
    assert len(api.add_collection_item(slug, "alice/tiny", "model", exists_ok=True).items) == 4

    items = api.get_collection(slug).items
    assert [(i.item_id, i.item_type, i.position) for i in items] == [
        ("alice/tiny", "model", 0),
        ("alice/corpus", "dataset", 1),
        ("alice/guide", "tutorial", 2),
        ("lab/mc", "leaderboard", 3),
    ]
    api.update_collection_item(slug, items[3].item_object_id, position=0)
    api.update_collection_item(slug, items[1].item_object_id, note="Its training data")
    api.delete_collection_item(slug, items[2].item_object_id)
    api.delete_collection_item(slug, items[2].item_object_id, missing_ok=True)
    items = api.get_collection(slug).items
    assert [(i.item_id, i.position, i.note) for i in items] == [
        ("lab/mc", 0, "Where it ranks"),
        ("alice/tiny", 1, "Start here"),
        ("alice/corpus", 2, "Its training data"),
    ]

    renamed = api.update_collection_metadata(slug, title="Best models", theme="green", private=True)
    assert renamed.slug == f"alice/best-models-{key}"
    assert (renamed.title, renamed.theme, renamed.private, renamed.description) == (
        "Best models",
        "green",
        True,
        "What I use",
    )
    assert api.get_collection(slug).slug == renamed.slug  # the old slug still finds it: its key decides
    assert api.create_collection("best MODELS", exists_ok=True).slug == renamed.slug
    with pytest.raises(HfHubHTTPError) as raised:
        api.create_collection("Best models")
    assert _status(raised) == 409

    api.delete_collection(renamed.slug)
    with pytest.raises(HfHubHTTPError) as raised:
        api.get_collection(renamed.slug)
    assert _status(raised) == 404
    api.delete_collection(renamed.slug, missing_ok=True)


def test_item_kinds_the_hub_does_not_host_are_refused(hub):
    slug = hub.api.create_collection("Spaces").slug
    with pytest.raises(BadRequestError) as raised:
        hub.api.add_collection_item(slug, "alice/app", "space")
    assert "'space' items are not supported" in str(raised.value)
    with pytest.raises(HfHubHTTPError) as raised:
        hub.api.add_collection_item(slug, "alice/missing", "model")
    assert _status(raised) == 404


def test_private_collections_and_items_stay_with_their_owner(hub, bob_hub):
    hub.api.create_repo("open")
    hub.api.create_repo("secret", private=True)
    public = hub.api.create_collection("Open")
    hidden = hub.api.create_collection("Hidden", private=True)
    hub.api.add_collection_item(public.slug, "alice/open", "model")
    hub.api.add_collection_item(public.slug, "alice/secret", "model")

    assert [c.title for c in hub.api.list_collections(owner="alice")] == ["Open", "Hidden"]
    assert [c.title for c in bob_hub.api.list_collections(owner="alice")] == ["Open"]
    assert [i.item_id for i in bob_hub.api.get_collection(public.slug).items] == ["alice/open"]
    assert [i.item_id for i in hub.api.get_collection(public.slug).items] == ["alice/open", "alice/secret"]
    with pytest.raises(HfHubHTTPError) as raised:
        bob_hub.api.get_collection(hidden.slug)
    assert _status(raised) == 404
    with pytest.raises(HfHubHTTPError) as raised:
        bob_hub.api.add_collection_item(public.slug, "alice/open", "model")
    assert _status(raised) == 403
    with pytest.raises(HfHubHTTPError) as raised:
        bob_hub.api.delete_collection(public.slug)
    assert _status(raised) == 403
    # bob may not add what he cannot see to his own collection.
    mine = bob_hub.api.create_collection("Mine")
    with pytest.raises(HfHubHTTPError) as raised:
        bob_hub.api.add_collection_item(mine.slug, "alice/secret", "model")
    assert _status(raised) == 404


def test_list_collections_filters_sorts_orders_and_truncates(hub, bob_hub):
    for name in ("a", "b", "c", "d", "e"):
        hub.api.create_repo(name)
    first = hub.api.create_collection("First")
    second = hub.api.create_collection("Second")
    for name in ("a", "b", "c", "d", "e"):
        hub.api.add_collection_item(first.slug, f"alice/{name}", "model")
    hub.api.add_collection_item(second.slug, "alice/e", "model")
    theirs = bob_hub.api.create_collection("Bob's")

    listed = list(hub.api.list_collections(owner="alice"))
    assert [(c.title, c.position) for c in listed] == [("First", 0), ("Second", 1)]
    assert [i.item_id for i in listed[0].items] == ["alice/a", "alice/b", "alice/c", "alice/d"]  # the first four
    assert len(hub.api.get_collection(first.slug).items) == 5

    hub.api.update_collection_metadata(second.slug, position=0)
    assert [c.title for c in hub.api.list_collections(owner="alice")] == ["Second", "First"]
    assert [c.title for c in hub.api.list_collections(owner=["alice", "bob"], sort="lastModified")] == [
        "Bob's",
        "Second",
        "First",
    ]
    assert [c.title for c in hub.api.list_collections(item="models/alice/e", sort="lastModified")] == [
        "Second",
        "First",
    ]
    assert [c.title for c in hub.api.list_collections(item=["models/alice/a", "models/alice/e"])] == ["First"]
    assert list(hub.api.list_collections(item="models/alice/missing")) == []

    collection_upvote_set(user=make_user("carol"), collection=Collection.objects.get(title="Bob's"), upvoted=True)
    upvoted = list(hub.api.list_collections(sort="upvotes", limit=2))
    assert [(c.title, c.upvotes) for c in upvoted] == [("Bob's", 1), ("Second", 0)]
    assert theirs.slug.startswith("bob/bobs-")


def test_list_collections_follows_the_link_header(hub, settings):
    settings.HUB_LIST_PAGE_SIZE = 2
    for title in ("One", "Two", "Three"):
        hub.api.create_collection(title)
    assert [c.title for c in hub.api.list_collections(owner="alice")] == ["One", "Two", "Three"]


def test_organization_collections_need_a_writing_member(hub, bob_hub):
    org = make_org("acme", admin=hub.user, members={"bob": "read"})
    created = hub.api.create_collection("Team picks", namespace=org.namespace.name, private=True)
    assert created.owner == {"name": "acme", "type": "org", "fullname": "acme"}
    assert [c.title for c in bob_hub.api.list_collections(owner="acme")] == ["Team picks"]  # members see it
    with pytest.raises(HfHubHTTPError) as raised:
        bob_hub.api.create_collection("Mine", namespace="acme")
    assert _status(raised) == 403
    with pytest.raises(HfHubHTTPError) as raised:
        bob_hub.api.update_collection_metadata(created.slug, title="Renamed")
    assert _status(raised) == 403


def test_a_collection_may_hold_other_collections(hub, bob_hub):
    parent = hub.api.create_collection("Reading list")
    child = hub.api.create_collection("Papers we reproduced")
    hidden = hub.api.create_collection("Drafts", private=True)
    hub.api.add_collection_item(parent.slug, child.slug, "collection", note="Start here")
    added = hub.api.add_collection_item(parent.slug, hidden.slug, "collection")
    assert [(i.item_id, i.item_type, i.note) for i in added.items] == [
        (child.slug, "collection", "Start here"),
        (hidden.slug, "collection", None),
    ]
    assert [i.item_id for i in bob_hub.api.get_collection(parent.slug).items] == [child.slug]
    assert [c.title for c in hub.api.list_collections(item=f"collections/{child.slug}")] == ["Reading list"]
    with pytest.raises(BadRequestError) as raised:
        hub.api.add_collection_item(parent.slug, parent.slug, "collection")
    assert "A collection cannot hold itself." in str(raised.value)
    with pytest.raises(HfHubHTTPError) as raised:
        bob_hub.api.add_collection_item(bob_hub.api.create_collection("Mine").slug, hidden.slug, "collection")
    assert _status(raised) == 404
