"""Sign-up, log-in, profile and password pages, and the shared namespace rules."""

import pytest
from django.test import Client

from hub.models import Namespace, User
from tests.support.factories import DEFAULT_PASSWORD, make_org, make_user

pytestmark = pytest.mark.django_db


def _signup(client: Client, **overrides):
    data = {"username": "alice", "fullname": "Alice A.", "email": "alice@example.org", "password": DEFAULT_PASSWORD}
    return client.post("/join", data | overrides)


def test_signup_creates_user_and_logs_in():
    client = Client()
    response = _signup(client)
    assert response.status_code == 302
    user = User.objects.get(username="alice")
    assert user.fullname == "Alice A."
    assert user.namespace.name == "alice"
    assert user.namespace.kind == "user"
    assert user.check_password(DEFAULT_PASSWORD)
    page = client.get("/")
    assert page.context["user"].username == "alice"


@pytest.mark.parametrize(
    ("username", "message"),
    [
        ("ALICE", "already taken"),
        ("acme", "already taken"),
        ("api", "is reserved"),
        ("Settings", "is reserved"),
        ("new", "is reserved"),
        ("a", "2 to 39"),
        ("bad name", "2 to 39"),
        ("-dash", "2 to 39"),
        ("double--dash", "2 to 39"),
        ("x" * 40, "at most 39 characters"),
        ("émile", "2 to 39"),
    ],
)
def test_signup_refuses_bad_names_and_changes_nothing(username, message):
    make_user("alice")
    make_org("acme")
    users_before, namespaces_before = User.objects.count(), Namespace.objects.count()
    response = _signup(Client(), username=username, email="other@example.org")
    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors["username"])
    assert (User.objects.count(), Namespace.objects.count()) == (users_before, namespaces_before)


def test_signup_refuses_weak_password_and_bad_email():
    response = _signup(Client(), password="123")
    assert response.status_code == 400
    assert "too short" in " ".join(response.context["form"].errors["password"])
    response = _signup(Client(), email="not-an-email")
    assert response.status_code == 400
    assert response.context["form"].errors["email"] == ["Enter a valid email address."]
    assert User.objects.count() == 0
    assert Namespace.objects.count() == 0


def test_login_and_logout():
    make_user("bob")
    client = Client(enforce_csrf_checks=True)
    page = client.get("/login")
    csrf = page.cookies["csrftoken"].value
    bad = client.post("/login", {"username": "bob", "password": "wrong-password", "csrfmiddlewaretoken": csrf})
    assert bad.status_code == 200
    assert "Please enter a correct username and password" in bad.content.decode()
    good = client.post("/login", {"username": "bob", "password": DEFAULT_PASSWORD, "csrfmiddlewaretoken": csrf})
    assert good.status_code == 302
    assert client.get("/settings/profile").status_code == 200
    csrf = client.cookies["csrftoken"].value
    assert client.post("/logout", {"csrfmiddlewaretoken": csrf}).status_code == 302
    assert client.get("/settings/profile").status_code == 302


def test_login_post_without_csrf_token_is_refused():
    make_user("bob")
    client = Client(enforce_csrf_checks=True)
    response = client.post("/login", {"username": "bob", "password": DEFAULT_PASSWORD})
    assert response.status_code == 403


def test_profile_pages_of_users_and_orgs():
    bob = make_user("bob", fullname="Bob Builder")
    make_org("acme", admin=bob)
    client = Client()
    user_page = client.get("/bob")
    assert user_page.status_code == 200
    assert "Bob Builder" in user_page.content.decode()
    assert client.get("/BOB").url == "/bob"
    org_page = client.get("/acme")
    assert org_page.status_code == 200
    assert "organization" in org_page.content.decode()
    assert client.get("/nobody-here").status_code == 404


def test_profile_settings_update_and_validation():
    user = make_user("carol")
    client = Client()
    client.force_login(user)
    response = client.post(
        "/settings/profile",
        {"fullname": "Carol C", "email": "c@example.org", "homepage": "https://c.example", "bio": "hi"},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert (user.fullname, user.email, user.homepage, user.bio) == (
        "Carol C",
        "c@example.org",
        "https://c.example",
        "hi",
    )
    bad = client.post("/settings/profile", {"fullname": "X", "email": "nope", "homepage": "", "bio": ""})
    assert bad.status_code == 200
    user.refresh_from_db()
    assert user.email == "c@example.org"


def test_password_change_requires_current_password():
    user = make_user("dave")
    client = Client()
    client.force_login(user)
    wrong = client.post("/settings/password", {"old_password": "not-it", "new_password": "a-new-long-password"})
    assert wrong.status_code == 400
    assert wrong.context["form"].errors["old_password"] == ["The current password is incorrect."]
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)
    right = client.post("/settings/password", {"old_password": DEFAULT_PASSWORD, "new_password": "a-new-long-password"})
    assert right.status_code == 302
    user.refresh_from_db()
    assert user.check_password("a-new-long-password")
    # The session survives the change.
    assert client.get("/settings/password").status_code == 200


def test_createsuperuser_claims_a_namespace():
    admin = User.objects.create_superuser("root-admin", "root@example.org", DEFAULT_PASSWORD)
    assert admin.namespace.name == "root-admin"
    assert Namespace.objects.filter(name="root-admin", kind="user").count() == 1
