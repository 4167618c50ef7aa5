"""Likes and the model tree through the real huggingface_hub client against a live hub
(HF_PROTOCOL.md §7.3, §7.7)."""

import pytest
from django.test import Client
from huggingface_hub import HfApi
from huggingface_hub.errors import RepositoryNotFoundError
from huggingface_hub.utils import get_session

from registry.models import Repo

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


def _like(client, repo_id: str, *, repo_type: str = "model", method: str = "POST"):
    """``POST`` / ``DELETE /api/{type}s/{id}/like`` (the client has ``unlike`` but no ``like``)."""
    response = get_session().request(
        method,
        f"{client.url}/api/{repo_type}s/{repo_id}/like",
        headers={"authorization": f"Bearer {client.token}"},
    )
    response.raise_for_status()
    return response.json()


def test_like_unlike_list_liked_repos_and_likers(hub, bob_hub):
    hub.api.create_repo("tiny")
    hub.api.create_repo("corpus", repo_type="dataset")
    hub.api.create_repo("secret", private=True)

    assert _like(bob_hub, "alice/tiny") == {"liked": True, "likes": 1}
    assert _like(bob_hub, "alice/tiny") == {"liked": True, "likes": 1}  # liking twice changes nothing
    assert _like(bob_hub, "alice/corpus", repo_type="dataset") == {"liked": True, "likes": 1}
    assert _like(hub, "alice/secret") == {"liked": True, "likes": 1}
    assert _like(hub, "alice/tiny") == {"liked": True, "likes": 2}

    likes = bob_hub.api.list_liked_repos()  # without a user: whoami's
    assert (likes.user, likes.total, likes.models, likes.datasets) == ("bob", 2, ["alice/tiny"], ["alice/corpus"])
    assert hub.api.list_liked_repos("alice").models == ["alice/tiny", "alice/secret"]
    # A private repository's likes are visible only to those who may see it.
    assert bob_hub.api.list_liked_repos("alice").models == ["alice/tiny"]

    likers = list(bob_hub.api.list_repo_likers("alice/tiny"))
    assert [(u.username, u.fullname, u.avatar_url) for u in likers] == [("bob", "bob", ""), ("alice", "alice", "")]
    assert hub.api.model_info("alice/tiny").likes == 2

    bob_hub.api.unlike("alice/tiny")
    bob_hub.api.unlike("alice/tiny")  # unliking twice changes nothing
    assert [u.username for u in hub.api.list_repo_likers("alice/tiny")] == ["alice"]
    assert bob_hub.api.list_liked_repos().models == []
    assert Repo.objects.get(name="tiny").likes == 1

    with pytest.raises(RepositoryNotFoundError):
        bob_hub.api.unlike("alice/secret")
    with pytest.raises(RepositoryNotFoundError):
        list(bob_hub.api.list_repo_likers("alice/secret"))


def test_the_like_button_the_rest_api_and_the_hf_api_share_their_likes(hub, bob_hub):
    hub.api.create_repo("tiny")
    page = Client()
    page.force_login(bob_hub.user)
    assert page.post("/alice/tiny/like", HTTP_ACCEPT="application/json").json() == {"liked": True, "likes": 1}
    rest = Client(headers={"authorization": f"Bearer {hub.token}"})
    assert rest.post("/api/v1/repos/models/alice/tiny/like").json() == {"likes": 2, "liked": True}
    assert [u.username for u in hub.api.list_repo_likers("alice/tiny")] == ["bob", "alice"]
    bob_hub.api.unlike("alice/tiny")
    assert rest.delete("/api/v1/repos/models/alice/tiny/like").json() == {"likes": 0, "liked": False}
    assert page.post("/alice/tiny/like", {"action": "like"}, HTTP_ACCEPT="application/json").json()["likes"] == 1
    assert bob_hub.api.list_liked_repos().models == ["alice/tiny"]


def test_likes_pages_follow_the_link_header(hub, bob_hub, settings):
    settings.HUB_LIST_PAGE_SIZE = 2
    for name in ("a", "b", "c"):
        hub.api.create_repo(name)
        _like(bob_hub, f"alice/{name}")
    assert bob_hub.api.list_liked_repos("bob").models == ["alice/c", "alice/b", "alice/a"]
    _like(hub, "alice/a")
    assert [u.username for u in hub.api.list_repo_likers("alice/a")] == ["bob", "alice"]


def test_liking_needs_a_token_and_a_known_user(hub):
    hub.api.create_repo("tiny")
    anonymous = get_session().post(f"{hub.url}/api/models/alice/tiny/like")
    assert anonymous.status_code == 401
    with pytest.raises(RepositoryNotFoundError):
        HfApi(endpoint=hub.url, token=False).unlike("alice/missing", token=hub.token)
    missing = get_session().get(f"{hub.url}/api/users/nobody/likes")
    assert missing.status_code == 404


def _card(base_model, **fields) -> bytes:
    lines = ["---"]
    if isinstance(base_model, list):
        lines += ["base_model:"] + [f"- {name}" for name in base_model]
    else:
        lines.append(f"base_model: {base_model}")
    lines += [f"{key}: {value}" for key, value in fields.items()]
    return ("\n".join(lines) + "\n---\n# Model\n").encode()


def test_model_tree_on_model_info_and_listing_filters(hub):
    api = hub.api
    for name in ("base", "other-base", "ft", "lora", "q4", "merged", "declared"):
        api.create_repo(name)
    cards = {
        "ft": _card("alice/base"),
        "lora": _card("alice/base", library_name="peft"),
        "q4": _card("alice/base", tags="[gguf]"),
        "merged": _card(["alice/base", "alice/other-base"]),
        "declared": _card("alice/base", base_model_relation="quantized", library_name="peft"),
    }
    for name, card in cards.items():
        api.upload_file(path_or_fileobj=card, path_in_repo="README.md", repo_id=f"alice/{name}")

    info = api.model_info("alice/ft")
    assert info.card_data.base_model == "alice/base"
    assert info.base_models == {"relation": "finetune", "models": [{"id": "alice/base"}]}
    assert api.model_info("alice/merged").card_data.base_model == ["alice/base", "alice/other-base"]
    assert api.model_info("alice/merged").base_models == {
        "relation": "merge",
        "models": [{"id": "alice/base"}, {"id": "alice/other-base"}],
    }
    assert api.model_info("alice/base").children_model_count == 5
    assert api.model_info("alice/other-base").children_model_count == 1
    assert api.model_info("alice/base").base_models is None

    def ids(**kwargs):
        return sorted(m.id for m in api.list_models(**kwargs))

    assert ids(filter="base_model:alice/base") == [
        "alice/declared",
        "alice/ft",
        "alice/lora",
        "alice/merged",
        "alice/q4",
    ]
    assert ids(filter="base_model:finetune:alice/base") == ["alice/ft"]
    assert ids(filter="base_model:adapter:alice/base") == ["alice/lora"]
    assert ids(filter="base_model:quantized:alice/base") == ["alice/declared", "alice/q4"]
    assert ids(filter="base_model:merge:alice/other-base") == ["alice/merged"]
    assert ids(filter=["base_model:alice/base", "gguf"]) == ["alice/q4"]

    expanded = api.list_models(filter="base_model:adapter:alice/base", expand=["baseModels"])
    assert [(m.id, m.base_models) for m in expanded] == [
        ("alice/lora", {"relation": "adapter", "models": [{"id": "alice/base"}]})
    ]

    # The Hub's own listing URLs spell the filter ``other=``.
    listed = get_session().get(f"{hub.url}/api/models", params={"other": "base_model:finetune:alice/base"})
    assert [m["id"] for m in listed.json()] == ["alice/ft"]
