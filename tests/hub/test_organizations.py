"""Organizations: roles, the table of who may do what, and the last-admin rule."""

import pytest
from rest_framework.test import APIClient

from hub.choices import OrgRole
from hub.models import Membership, Organization
from hub.permissions import OrgAction, role_allows
from tests.support.factories import make_org, make_user

pytestmark = pytest.mark.django_db


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def team():
    """acme with one member per role, and an outsider."""
    admin = make_user("ada")
    for name in ("wes", "rita", "olly", "newbie"):
        make_user(name)
    org = make_org("acme", admin=admin, members={"wes": "write", "rita": "read"})
    return org


# (action performed through the REST API, role of the actor → expected status)
ROLE_TABLE = [
    ("add_member", {"admin": 201, "write": 403, "read": 403, "outsider": 403}),
    ("change_role", {"admin": 200, "write": 403, "read": 403, "outsider": 403}),
    ("remove_member", {"admin": 204, "write": 403, "read": 403, "outsider": 403}),
]
ACTORS = {"admin": "ada", "write": "wes", "read": "rita", "outsider": "olly"}


@pytest.mark.parametrize(("action", "expected"), ROLE_TABLE)
@pytest.mark.parametrize("role", ["admin", "write", "read", "outsider"])
def test_member_management_by_role(team, action, expected, role):
    from hub.models import User

    client = _client(User.objects.get(username=ACTORS[role]))
    if action == "add_member":
        response = client.post(
            "/api/v1/organizations/acme/members", {"username": "newbie", "role": "read"}, format="json"
        )
        changed = Membership.objects.filter(organization=team, user__username="newbie").exists()
    elif action == "change_role":
        response = client.patch("/api/v1/organizations/acme/members/rita", {"role": "write"}, format="json")
        changed = Membership.objects.get(organization=team, user__username="rita").role == "write"
    else:
        response = client.delete("/api/v1/organizations/acme/members/rita")
        changed = not Membership.objects.filter(organization=team, user__username="rita").exists()
    assert response.status_code == expected[role]
    assert changed is (expected[role] < 300)
    if expected[role] == 403:
        assert response.json() == {"error": "This needs the 'admin' role in the organization.", "code": "forbidden"}


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        (OrgRole.ADMIN, set(OrgAction)),
        (OrgRole.WRITE, {OrgAction.READ_PRIVATE_REPOS, OrgAction.CREATE_REPO, OrgAction.WRITE_REPO}),
        (OrgRole.READ, {OrgAction.READ_PRIVATE_REPOS}),
        (None, set()),
    ],
)
def test_permission_table(role, allowed):
    assert {action for action in OrgAction if role_allows(role, action)} == allowed


def test_create_org_and_creator_is_admin():
    user = make_user("founder")
    response = _client(user).post("/api/v1/organizations", {"name": "newco", "fullname": "New Co"}, format="json")
    assert response.status_code == 201
    assert response.json()["name"] == "newco"
    org = Organization.objects.get(namespace__name="newco")
    assert list(org.memberships.values_list("user__username", "role")) == [("founder", "admin")]


@pytest.mark.parametrize(("name", "status"), [("FOUNDER", 409), ("api", 400), ("no spaces", 400), ("Acme", 409)])
def test_create_org_refuses_taken_reserved_and_malformed_names(name, status):
    user = make_user("founder")
    make_org("acme")
    before = Organization.objects.count()
    response = _client(user).post("/api/v1/organizations", {"name": name}, format="json")
    assert response.status_code == status
    assert set(response.json()) == {"error", "code", "fields"}
    assert Organization.objects.count() == before


def test_last_admin_cannot_leave_or_be_demoted(team):
    from hub.models import User

    ada = User.objects.get(username="ada")
    response = _client(ada).post("/api/v1/organizations/acme/leave")
    assert response.status_code == 400
    assert response.json()["error"] == "ada is the last admin of acme; make someone else an admin first."
    assert (
        _client(ada).patch("/api/v1/organizations/acme/members/ada", {"role": "read"}, format="json").status_code == 400
    )
    assert Membership.objects.get(organization=team, user=ada).role == "admin"
    # With a second admin, the first may leave.
    assert (
        _client(ada).patch("/api/v1/organizations/acme/members/wes", {"role": "admin"}, format="json").status_code
        == 200
    )
    assert _client(ada).post("/api/v1/organizations/acme/leave").status_code == 204
    assert list(team.memberships.order_by("user__username").values_list("user__username", "role")) == [
        ("rita", "read"),
        ("wes", "admin"),
    ]


def test_member_can_leave_and_non_member_cannot(team):
    from hub.models import User

    assert _client(User.objects.get(username="rita")).post("/api/v1/organizations/acme/leave").status_code == 204
    response = _client(User.objects.get(username="olly")).post("/api/v1/organizations/acme/leave")
    assert response.status_code == 404
    assert response.json()["error"] == "olly is not a member of acme."


def test_adding_twice_or_unknown_user_or_bad_role(team):
    from hub.models import User

    ada = _client(User.objects.get(username="ada"))
    assert (
        ada.post("/api/v1/organizations/acme/members", {"username": "wes", "role": "read"}, format="json").status_code
        == 409
    )
    missing = ada.post("/api/v1/organizations/acme/members", {"username": "ghost", "role": "read"}, format="json")
    assert missing.status_code == 404
    bad_role = ada.post("/api/v1/organizations/acme/members", {"username": "newbie", "role": "owner"}, format="json")
    assert bad_role.status_code == 400
    assert bad_role.json()["fields"] == {"role": ['"owner" is not a valid choice.']}
    assert team.memberships.count() == 3


def test_members_page_for_admin_and_member(team, client):
    from hub.models import User

    client.force_login(User.objects.get(username="ada"))
    page = client.get("/organizations/acme/settings/members")
    assert page.status_code == 200
    assert page.context["can_manage"] is True
    response = client.post(
        "/organizations/acme/settings/members", {"action": "add", "username": "newbie", "role": "write"}
    )
    assert response.status_code == 302
    assert Membership.objects.get(organization=team, user__username="newbie").role == "write"
    client.force_login(User.objects.get(username="rita"))
    assert client.get("/organizations/acme/settings/members").context["can_manage"] is False
    client.force_login(User.objects.get(username="olly"))
    assert client.get("/organizations/acme/settings/members").status_code == 404
