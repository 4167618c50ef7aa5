"""Gated access through the REST API (/api/v1/repos/…/access-requests): ask with answers, list by
status as an admin, decide with a reason; the same service as the pages and the HF API."""

import pytest
from rest_framework.test import APIClient

from registry.models import AccessRequest
from registry.services.repos import repo_update_settings
from tests.frontend.builders import commit_files, make_repo
from tests.support.factories import make_token, make_user

pytestmark = pytest.mark.django_db

URL = "/api/v1/repos/models/alice/tiny/access-requests"
CARD = b"---\nextra_gated_fields:\n  Company: text\n  I agree: checkbox\n---\n# Tiny\n"


def _client(token: str | None = None) -> APIClient:
    client = APIClient()
    if token is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


@pytest.fixture
def people():
    alice, bob = make_user("alice"), make_user("bob")
    repo = make_repo(alice, "tiny")
    commit_files(repo, alice, {"README.md": CARD})
    repo_update_settings(repo=repo, gated="manual")
    return make_token(alice), make_token(bob)


def test_ask_list_and_decide(people):
    alice, bob = people
    answers = {"fields": {"Company": "ACME", "I agree": True}}
    made = _client(bob).post(URL, answers, format="json")
    assert made.status_code == 201
    body = made.json()
    assert (body["user"], body["status"], body["fields"], body["decided_by"]) == (
        "bob",
        "pending",
        {"Company": "ACME", "I agree": True},
        None,
    )
    assert _client(bob).post(URL, answers, format="json").status_code == 409

    listed = _client(alice).get(URL).json()
    assert (listed["count"], [r["user"] for r in listed["results"]]) == (1, ["bob"])
    assert _client(alice).get(f"{URL}?status=accepted").json()["count"] == 0

    decided = _client(alice).post(f"{URL}/{body['id']}", {"status": "rejected", "reason": "No."}, format="json")
    assert (decided.status_code, decided.json()["status"], decided.json()["reason"]) == (200, "rejected", "No.")
    assert decided.json()["decided_by"] == "alice"
    assert [r["user"] for r in _client(alice).get(f"{URL}?status=rejected").json()["results"]] == ["bob"]


def test_answers_are_checked(people):
    _alice, bob = people
    response = _client(bob).post(URL, {"fields": {"Company": "ACME"}}, format="json")
    assert response.status_code == 400
    assert response.json()["fields"] == {"I agree": ["Tick this box to ask for access."]}
    assert _client(bob).post(URL, {"fields": "ACME"}, format="json").status_code == 400
    assert AccessRequest.objects.count() == 0


def test_only_admins_list_and_decide(people):
    alice, bob = people
    _client(bob).post(URL, {"fields": {"Company": "ACME", "I agree": True}}, format="json")
    request_id = AccessRequest.objects.get().pk
    assert _client().get(URL).status_code == 401
    assert _client(bob).get(URL).status_code == 403
    assert _client(bob).post(f"{URL}/{request_id}", {"status": "accepted"}, format="json").status_code == 403
    read = make_token(AccessRequest.objects.get().repo.namespace.user, role="read", name="read")
    assert _client(read).post(f"{URL}/{request_id}", {"status": "accepted"}, format="json").status_code == 403
    assert _client(alice).get(f"{URL}?status=maybe").status_code == 400
    assert AccessRequest.objects.get().status == "pending"
