"""Gated access requests with the stock huggingface_hub client against a live hub (HF_PROTOCOL.md
§7.1): people ask on the repository page (the client has no call for it), admins list, accept,
reject, move back to pending and grant through the client, and downloads follow the decisions."""

from pathlib import Path

import httpx
import pytest
from django.test import Client
from huggingface_hub import hf_hub_download
from huggingface_hub.errors import BadRequestError, GatedRepoError, HfHubHTTPError, RepositoryNotFoundError

from hub.models import User
from tests.support.factories import make_token
from tests.support.hf import hub_client

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

CARD = b"""---
license: mit
extra_gated_prompt: You agree to **not** redistribute the weights.
extra_gated_fields:
  Company: text
  Country: country
  I want to use this model for:
    type: select
    options:
      - Research
      - label: Other
        value: other
  I agree to use this model for non-commercial use ONLY: checkbox
---
# Tiny gated model
"""
ANSWERS = {"field_0": "ACME", "field_1": "France", "field_2": "Research", "field_3": "on"}
KEPT = {
    "Company": "ACME",
    "Country": "France",
    "I want to use this model for": "Research",
    "I agree to use this model for non-commercial use ONLY": True,
}


@pytest.fixture
def gated(hub, tiny):
    hub.api.upload_file(path_or_fileobj=CARD, path_in_repo="README.md", repo_id=tiny)
    hub.api.upload_file(path_or_fileobj=b"secret weights", path_in_repo="weights.bin", repo_id=tiny)
    hub.api.update_repo_settings(tiny, gated="manual")
    return tiny


def _ask(username: str, answers=ANSWERS, repo_path="/alice/tiny"):
    page = Client()
    page.force_login(User.objects.get(username=username))
    return page.post(f"{repo_path}/ask-access", answers)


def _download(person, tmp_path, repo_id="alice/tiny"):
    return hf_hub_download(repo_id, "weights.bin", endpoint=person.url, token=person.token, cache_dir=tmp_path / "c")


def test_request_with_custom_fields_then_accept_then_download(hub, bob_hub, gated, tmp_path):
    with pytest.raises(GatedRepoError, match="you are not in the authorized list"):
        _download(bob_hub, tmp_path / "before")
    assert _ask("bob").status_code == 302

    (pending,) = hub.api.list_pending_access_requests(gated)
    assert (pending.username, pending.status, pending.fields) == ("bob", "pending", KEPT)
    assert pending.email == bob_hub.user.email
    assert pending.timestamp.tzinfo is not None
    assert list(hub.api.list_accepted_access_requests(gated)) == []
    with pytest.raises(GatedRepoError):
        _download(bob_hub, tmp_path / "pending")

    hub.api.accept_access_request(gated, "bob")
    assert [r.username for r in hub.api.list_accepted_access_requests(gated)] == ["bob"]
    assert list(hub.api.list_pending_access_requests(gated)) == []
    path = _download(bob_hub, tmp_path / "accepted")
    assert Path(path).read_bytes() == b"secret weights"


def test_reject_keeps_the_gate_closed_and_says_why(hub, bob_hub, gated, tmp_path):
    _ask("bob")
    hub.api.reject_access_request(gated, "bob", rejection_reason="Not for commercial use.")
    (rejected,) = hub.api.list_rejected_access_requests(gated)
    assert (rejected.username, rejected.status) == ("bob", "rejected")
    with pytest.raises(GatedRepoError):
        _download(bob_hub, tmp_path)
    page = Client()
    page.force_login(bob_hub.user)
    body = page.get("/alice/tiny").content.decode()
    assert 'data-status="rejected"' in body
    assert "Not for commercial use." in body
    # A rejected person cannot ask again.
    assert _ask("bob").status_code == 409


def test_cancel_moves_back_to_pending_and_takes_access_away(hub, bob_hub, gated, tmp_path):
    _ask("bob")
    hub.api.accept_access_request(gated, "bob")
    _download(bob_hub, tmp_path / "one")
    hub.api.cancel_access_request(gated, "bob")
    assert [r.username for r in hub.api.list_pending_access_requests(gated)] == ["bob"]
    with pytest.raises(GatedRepoError):
        _download(bob_hub, tmp_path / "two")
    # Deciding by request id, as the client does for repositories that hide user names.
    (pending,) = hub.api.list_pending_access_requests(gated)
    hub.api.accept_access_request(gated, request_id=pending.request_id)
    assert [r.username for r in hub.api.list_accepted_access_requests(gated)] == ["bob"]
    # Already in the list: 404, as the Hub answers.
    with pytest.raises(HfHubHTTPError) as raised:
        hub.api.accept_access_request(gated, "bob")
    assert raised.value.response.status_code == 404


def test_grant_access_without_a_request(hub, bob_hub, gated, tmp_path):
    answer = hub.api.grant_access(gated, "bob")
    assert (answer["status"], answer["user"]["user"]) == ("accepted", "bob")
    (accepted,) = hub.api.list_accepted_access_requests(gated)
    assert (accepted.username, accepted.fields) == ("bob", None)
    assert Path(_download(bob_hub, tmp_path)).read_bytes() == b"secret weights"
    with pytest.raises(BadRequestError, match="already has access"):
        hub.api.grant_access(gated, "bob")
    with pytest.raises(HfHubHTTPError) as raised:
        hub.api.grant_access(gated, "nobody-here")
    assert raised.value.response.status_code == 404


def test_auto_gating_accepts_at_once(hub, bob_hub, gated, tmp_path):
    hub.api.update_repo_settings(gated, gated="auto")
    _ask("bob")
    assert [r.status for r in hub.api.list_accepted_access_requests(gated)] == ["accepted"]
    assert Path(_download(bob_hub, tmp_path)).read_bytes() == b"secret weights"


def test_only_admins_list_and_decide(hub, bob_hub, gated, live_server):
    carol = hub_client(live_server.url, "carol")
    _ask("carol")
    for call in (
        lambda: list(bob_hub.api.list_pending_access_requests(gated)),
        lambda: list(bob_hub.api.list_accepted_access_requests(gated)),
        lambda: list(bob_hub.api.list_rejected_access_requests(gated)),
        lambda: bob_hub.api.accept_access_request(gated, "carol"),
        lambda: bob_hub.api.reject_access_request(gated, "carol", rejection_reason=None),
        lambda: bob_hub.api.cancel_access_request(gated, "carol"),
        lambda: bob_hub.api.grant_access(gated, "bob"),
        lambda: carol.api.accept_access_request(gated, "carol"),
    ):
        with pytest.raises(HfHubHTTPError) as raised:
            call()
        assert raised.value.response.status_code == 403
    # A read token of the owner may not decide either; an anonymous caller is asked to log in.
    read_token = make_token(hub.user, role="read")
    response = httpx.post(
        f"{live_server.url}/api/models/{gated}/user-access-request/handle",
        json={"user": "carol", "status": "accepted"},
        headers={"authorization": f"Bearer {read_token}"},
    )
    assert response.status_code == 403
    response = httpx.get(f"{live_server.url}/api/models/{gated}/user-access-request/pending")
    assert response.status_code == 401
    assert [r.username for r in hub.api.list_pending_access_requests(gated)] == ["carol"]


def test_private_gated_repository_is_not_found_to_strangers(hub, bob_hub, gated):
    hub.api.update_repo_settings(gated, private=True)
    with pytest.raises(RepositoryNotFoundError):
        list(bob_hub.api.list_pending_access_requests(gated))


def test_repository_that_is_not_gated_answers_400(hub, tiny):
    with pytest.raises(BadRequestError, match="not a gated repository"):
        list(hub.api.list_pending_access_requests(tiny))
    with pytest.raises(BadRequestError, match="not a gated repository"):
        hub.api.grant_access(tiny, "alice")


def test_bad_bodies_are_400(hub, bob_hub, gated, live_server):
    _ask("bob")
    url = f"{live_server.url}/api/models/{gated}/user-access-request/handle"
    headers = {"authorization": f"Bearer {hub.token}"}
    for body in (
        {"user": "bob", "status": "maybe"},
        {"user": ["bob"], "status": "accepted"},
        {"requestId": "x1", "status": "accepted"},
        {"user": "bob", "status": "accepted", "rejectionReason": "no"},
        {"user": "bob", "status": "rejected", "rejectionReason": "x" * 1001},
    ):
        response = httpx.post(url, json=body, headers=headers)
        assert response.status_code == 400, body
        assert isinstance(response.json()["error"], str)


def test_lists_are_paginated_with_absolute_link_urls(hub, gated, live_server, settings):
    settings.HUB_LIST_PAGE_SIZE = 2
    for username in ("p1", "p2", "p3"):
        hub_client(live_server.url, username)
        _ask(username)
    assert [r.username for r in hub.api.list_pending_access_requests(gated)] == ["p1", "p2", "p3"]
    first = httpx.get(
        f"{live_server.url}/api/models/{gated}/user-access-request/pending",
        headers={"authorization": f"Bearer {hub.token}"},
    )
    assert len(first.json()) == 2
    assert first.links["next"]["url"].startswith(f"{live_server.url}/api/models/{gated}/user-access-request/pending?")
