"""User and organization pages list their repositories; creating a repository from /new."""

import pytest
from django.test import Client

from registry.choices import RepoType
from registry.models import Repo
from tests.frontend.builders import fast_passwords, make_repo  # noqa: F401
from tests.support.factories import make_org, make_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_passwords")]


@pytest.fixture
def people():
    alice, bob = make_user("alice"), make_user("bob")
    org = make_org("acme", admin=alice, members={"bob": "read"})
    make_repo(alice, "tiny")
    make_repo(alice, "secret", private=True)
    make_repo(alice, "stories", repo_type=RepoType.DATASET)
    make_repo(alice, "lab-model", namespace=org.namespace)
    make_repo(alice, "lab-secret", namespace=org.namespace, private=True)
    return alice, bob


def listed(response) -> dict[str, list[str]]:
    return {s["plural"]: [r.name for r in s["repos"]] for s in response.context["sections"] if s["repos"]}


def test_user_page_lists_visible_repositories_by_type(people, django_assert_num_queries):
    with django_assert_num_queries(3):  # namespace, memberships, repositories
        response = Client().get("/alice")
    assert listed(response) == {"models": ["tiny"], "datasets": ["stories"]}
    html = response.content.decode()
    assert '<a href="/datasets/alice/stories">alice/<strong>stories</strong></a>' in html
    assert "secret" not in html


def test_owner_sees_private_repositories_on_their_page(people):
    alice, _bob = people
    client = Client()
    client.force_login(alice)
    assert listed(client.get("/alice")) == {"models": ["secret", "tiny"], "datasets": ["stories"]}


def test_org_page_lists_repositories_and_members_see_private_ones(people):
    _alice, bob = people
    assert listed(Client().get("/acme")) == {"models": ["lab-model"]}
    member = Client()
    member.force_login(bob)
    response = member.get("/acme")
    assert listed(response) == {"models": ["lab-secret", "lab-model"]}
    assert response.context["can_create"] is False  # read role


def test_profile_redirects_to_canonical_name_and_404s_unknown(people):
    response = Client().get("/ALICE")
    assert (response.status_code, response["Location"]) == (302, "/alice")
    assert Client().get("/nobody").status_code == 404


def test_empty_profile_invites_its_owner(people):
    carol = make_user("carol")
    client = Client()
    client.force_login(carol)
    assert '<a href="/new?owner=carol">Create one</a>' in client.get("/carol").content.decode()
    assert "Create one" not in Client().get("/carol").content.decode()


def test_new_repository_form(people):
    alice, _bob = people
    client = Client()
    client.force_login(alice)
    page = client.get("/new?type=tutorial&owner=acme")
    form = page.context["form"]
    assert form.fields["owner"].choices == [("alice", "alice"), ("acme", "acme")]
    assert (form.initial["type"], form.initial["owner"]) == ("tutorial", "acme")
    response = client.post("/new", {"owner": "acme", "name": "guide", "type": "tutorial", "visibility": "private"})
    assert (response.status_code, response["Location"]) == (302, "/tutorials/acme/guide")
    repo = Repo.objects.get(name="guide")
    assert (repo.namespace.name, repo.type, repo.private, repo.created_by_id) == ("acme", "tutorial", True, alice.pk)


def test_new_repository_errors_stay_on_the_form(people):
    alice, bob = people
    client = Client()
    client.force_login(alice)
    taken = client.post("/new", {"owner": "alice", "name": "TINY", "type": "model", "visibility": "public"})
    assert taken.status_code == 400
    assert taken.context["form"].non_field_errors() == ["You already created this model repo: alice/TINY"]
    bad = client.post("/new", {"owner": "alice", "name": "bad name", "type": "model", "visibility": "public"})
    assert bad.context["form"].errors["name"] == ["Invalid repository name."]
    reader = Client()
    reader.force_login(bob)
    refused = reader.post("/new", {"owner": "acme", "name": "x", "type": "model", "visibility": "public"})
    assert refused.context["form"].non_field_errors() == [
        "You need the 'write' role in acme to create repositories there."
    ]
    assert not Repo.objects.filter(name="x").exists()


def test_new_repository_needs_login():
    response = Client().get("/new")
    assert (response.status_code, response["Location"]) == (302, "/login?next=/new")
