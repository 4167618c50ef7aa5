"""The audit log (hub.services.audit): every recorded change appears with its actor, client
address and user agent, through whichever face made it; org admins, repo admins and site staff
read it (pages and REST) and nobody else; it is append-only on every database (and on PostgreSQL
in the database itself)."""

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import Client
from rest_framework.test import APIClient

from hub.models import AppendOnlyError, AuditEvent
from hub.services.audit import record
from registry.models import AccessRequest
from tests.frontend.builders import commit_files, make_repo
from tests.support.factories import make_org, make_token, make_user

pytestmark = pytest.mark.django_db

AGENT = "audit-test/1.0 " + "x" * 400
ADDRESS = "203.0.113.7"


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _api(token: str | None = None) -> APIClient:
    client = APIClient(REMOTE_ADDR=ADDRESS, HTTP_USER_AGENT=AGENT)
    if token is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def _events(**filters) -> list[tuple]:
    rows = AuditEvent.objects.filter(**filters).order_by("id")
    return [(event.action, event.actor_name, event.target_repr, event.data) for event in rows]


@pytest.fixture
def acme():
    """acme: ada (admin), wes (write), rita (read); outsider is in no organization."""
    ada, wes, rita = make_user("ada"), make_user("wes"), make_user("rita")
    make_user("outsider")
    org = make_org("acme", admin=ada, members={"wes": "write", "rita": "read"})
    return org, {"ada": ada, "wes": wes, "rita": rita}


def test_member_changes_through_the_rest_api_are_recorded_with_actor_address_and_agent(acme):
    org, people = acme
    client = _api(make_token(people["ada"]))
    base = "/api/v1/organizations/acme/members"
    assert client.post(base, {"username": "outsider", "role": "read"}, format="json").status_code == 201
    assert client.patch(f"{base}/outsider", {"role": "write"}, format="json").status_code == 200
    assert client.delete(f"{base}/outsider").status_code == 204
    assert _api(make_token(people["rita"])).post("/api/v1/organizations/acme/leave").status_code == 204
    events = list(AuditEvent.objects.filter(organization=org, action__startswith="member.").order_by("id"))
    assert [(e.action, e.actor_name, e.target_repr, e.data) for e in events] == [
        ("member.add", "ada", "acme: wes", {"member": "wes", "after": {"role": "write"}}),
        ("member.add", "ada", "acme: rita", {"member": "rita", "after": {"role": "read"}}),
        ("member.add", "ada", "acme: outsider", {"member": "outsider", "after": {"role": "read"}}),
        (
            "member.role",
            "ada",
            "acme: outsider",
            {"member": "outsider", "before": {"role": "read"}, "after": {"role": "write"}},
        ),
        ("member.remove", "ada", "acme: outsider", {"member": "outsider", "before": {"role": "write"}}),
        ("member.leave", "rita", "acme: rita", {"member": "rita", "before": {"role": "read"}}),
    ]
    # The factory's additions ran outside any request: no address. The API's carry the caller's.
    assert [(e.ip, e.user_agent) for e in events[:2]] == [("", ""), ("", "")]
    assert {(e.ip, e.user_agent) for e in events[2:]} == {(ADDRESS, AGENT[:256])}
    assert _events(action="org.create") == [("org.create", "ada", "acme", {})]


def test_the_address_is_the_one_trusted_proxies_saw(acme, settings):
    settings.HUB_TRUSTED_PROXIES = 1
    _org, people = acme
    client = _api(make_token(people["ada"]))
    client.credentials(
        HTTP_AUTHORIZATION=f"Bearer {make_token(people['ada'])}", HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.4"
    )
    response = client.patch("/api/v1/organizations/acme/members/wes", {"role": "read"}, format="json")
    assert response.status_code == 200
    assert AuditEvent.objects.get(action="member.role").ip == "198.51.100.4"


def test_tokens_created_and_revoked_on_the_settings_page_are_recorded():
    alice = make_user("alice")
    client = Client(REMOTE_ADDR=ADDRESS, HTTP_USER_AGENT="browser")
    client.force_login(alice)
    assert client.post("/settings/tokens", {"name": "laptop", "role": "write"}).status_code == 200
    token = alice.api_tokens.get()
    assert client.post(f"/settings/tokens/{token.pk}/revoke").status_code == 302
    target = f"token laptop ({token.prefix}…) of alice"
    data = {"token": token.pk, "name": "laptop", "role": "write"}
    assert _events() == [("token.create", "alice", target, data), ("token.revoke", "alice", target, data)]
    assert set(AuditEvent.objects.values_list("ip", "user_agent", "actor_id")) == {(ADDRESS, "browser", alice.pk)}


def test_repository_lifecycle_through_rest_and_hf_api_is_recorded(acme):
    org, people = acme
    ada = _api(make_token(people["ada"]))
    created = ada.post("/api/v1/repos", {"name": "tiny", "type": "model", "namespace": "acme"}, format="json")
    assert created.status_code == 201
    repo_pk = AuditEvent.objects.get(action="repo.create").repo_pk
    assert ada.patch("/api/v1/repos/models/acme/tiny", {"private": True}, format="json").status_code == 200
    settings = ada.put("/api/models/acme/tiny/settings", {"gated": "manual"}, format="json")
    assert settings.status_code == 200
    # A change to the same value is no change: nothing recorded.
    assert ada.patch("/api/v1/repos/models/acme/tiny", {"private": True}, format="json").status_code == 200
    moved = ada.post("/api/v1/repos/models/acme/tiny/move", {"namespace": "acme", "name": "small"}, format="json")
    assert moved.status_code == 200
    deleted = ada.delete("/api/repos/delete", {"name": "small", "organization": "acme", "type": "model"}, format="json")
    assert deleted.status_code == 200, deleted.content
    assert _events(repo_pk=repo_pk) == [
        ("repo.create", "ada", "model acme/tiny", {"private": False}),
        ("repo.visibility", "ada", "model acme/tiny", {"before": {"private": False}, "after": {"private": True}}),
        ("repo.gating", "ada", "model acme/tiny", {"before": {"gated": False}, "after": {"gated": "manual"}}),
        ("repo.move", "ada", "model acme/small", {"before": {"repo": "acme/tiny"}, "after": {"repo": "acme/small"}}),
        ("repo.delete", "ada", "model acme/small", {"private": True}),
    ]
    assert set(AuditEvent.objects.filter(repo_pk=repo_pk).values_list("organization_id", "ip")) == {(org.pk, ADDRESS)}


def test_access_request_decisions_and_grants_are_recorded():
    alice, bob = make_user("alice"), make_user("bob")
    make_user("carol")
    repo = make_repo(alice, "tiny")
    commit_files(repo, alice, {"README.md": b"---\nlicense: mit\n---\n# Tiny\n"})
    admin = _api(make_token(alice))
    assert admin.patch("/api/v1/repos/models/alice/tiny", {"gated": "manual"}, format="json").status_code == 200
    assert (
        _api(make_token(bob)).post("/api/v1/repos/models/alice/tiny/access-requests", {}, format="json").status_code
        == 201
    )
    request_id = AccessRequest.objects.get(user=bob).pk
    url = f"/api/v1/repos/models/alice/tiny/access-requests/{request_id}"
    assert admin.post(url, {"status": "rejected", "reason": "No."}, format="json").status_code == 200
    grant = admin.post("/api/models/alice/tiny/user-access-request/grant", {"user": "carol"}, format="json")
    assert grant.status_code == 200
    assert _events(action__startswith="access.") == [
        (
            "access.decide",
            "alice",
            "model alice/tiny",
            {"user": "bob", "before": {"status": "pending"}, "after": {"status": "rejected"}, "reason": "No."},
        ),
        (
            "access.grant",
            "alice",
            "model alice/tiny",
            {"user": "carol", "before": {"status": None}, "after": {"status": "accepted"}},
        ),
    ]
    assert AuditEvent.objects.filter(action__startswith="access.", ip=ADDRESS).count() == 2


def test_org_audit_log_page_and_api_for_admins_only(acme):
    org, people = acme
    repo = make_repo(people["ada"], "secret", namespace=org.namespace, private=True)
    assert repo.pk
    page = Client()
    page.force_login(people["ada"])
    shown = page.get("/organizations/acme/settings/audit-log")
    assert shown.status_code == 200
    body = shown.content.decode()
    assert body.count('<tr data-action="') == 4  # org.create, two member.add, repo.create
    assert "model acme/secret" in body
    filtered = page.get("/organizations/acme/settings/audit-log?action=member.add&actor=ada")
    assert filtered.content.decode().count('<tr data-action="member.add"') == 2
    assert page.get("/organizations/acme/settings/audit-log?action=DROP%20TABLE").status_code == 400
    for name, status in (("wes", 403), ("rita", 403), ("outsider", 404)):
        other = Client()
        other.force_login(_user(name))
        assert other.get("/organizations/acme/settings/audit-log").status_code == status, name
    assert Client().get("/organizations/acme/settings/audit-log").status_code == 302

    api = _api(make_token(people["ada"])).get("/api/v1/organizations/acme/audit-log?action=repo")
    assert api.status_code == 200
    assert [(e["action"], e["actor"], e["organization"], e["target"], e["repo_pk"]) for e in api.json()["results"]] == [
        ("repo.create", "ada", "acme", "model acme/secret", repo.pk)
    ]
    for name in ("wes", "rita", "outsider"):
        refused = _api(make_token(_user(name))).get("/api/v1/organizations/acme/audit-log")
        assert refused.status_code == 403, name
        assert refused.json()["code"] == "forbidden"
    assert _api().get("/api/v1/organizations/acme/audit-log").status_code == 401


def _user(name: str):
    from hub.models import User

    return User.objects.get(username=name)


def test_repo_audit_log_page_and_api(acme):
    org, people = acme
    repo = make_repo(people["ada"], "secret", namespace=org.namespace, private=True)
    page = Client()
    page.force_login(people["ada"])
    shown = page.get("/acme/secret/settings/audit-log")
    assert shown.status_code == 200
    assert shown.content.decode().count('<tr data-action="repo.create"') == 1
    assert 'id="tab-audit-log"' in shown.content.decode()
    # Admins find the tab on the repository page; writers do not.
    assert 'id="tab-audit-log"' in page.get("/acme/secret").content.decode()
    writer = Client()
    writer.force_login(people["wes"])
    assert 'id="tab-audit-log"' not in writer.get("/acme/secret").content.decode()
    assert writer.get("/acme/secret/settings/audit-log").status_code == 403
    outsider = Client()
    outsider.force_login(_user("outsider"))
    assert outsider.get("/acme/secret/settings/audit-log").status_code == 404
    assert Client().get("/acme/secret/settings/audit-log").status_code == 404

    url = "/api/v1/repos/models/acme/secret/audit-log"
    listed = _api(make_token(people["ada"], role="read")).get(url)
    assert listed.status_code == 200
    assert [(e["action"], e["repo_pk"]) for e in listed.json()["results"]] == [("repo.create", repo.pk)]
    assert _api(make_token(people["wes"])).get(url).status_code == 403
    assert _api(make_token(people["rita"])).get(url).status_code == 403
    assert _api(make_token(_user("outsider"))).get(url).status_code == 404
    assert _api().get(url).status_code == 404


def test_staff_page_sees_everything_with_filters_and_pages(acme, settings):
    _org, people = acme
    staff = make_user("moderator")
    staff.is_staff = True
    staff.save(update_fields=["is_staff"])
    for number in range(55):
        record(actor=people["wes"], action="repo.visibility", target_repr=f"model wes/r{number}")
    client = Client()
    client.force_login(staff)
    first = client.get("/admin-audit?actor=wes")
    assert first.status_code == 200
    assert first.content.decode().count('<tr data-action="repo.visibility"') == 50
    assert "Page 1 of 2" in first.content.decode()
    second = client.get("/admin-audit?actor=wes&page=2")
    assert second.content.decode().count('<tr data-action="repo.visibility"') == 5
    assert client.get("/admin-audit?action=org").content.decode().count('<tr data-action="org.create"') == 1
    for user in (people["ada"], None):
        other = Client()
        if user is not None:
            other.force_login(user)
        assert other.get("/admin-audit").status_code == 404


def test_the_log_is_append_only_in_the_model():
    event = record(actor=None, action="org.update", target_repr="acme")
    event.target_repr = "changed"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(target_repr="changed")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).delete()
    assert AuditEvent.objects.get(pk=event.pk).target_repr == "acme"
    with pytest.raises(ValueError):
        record(actor=None, action="not a code")


def test_the_log_is_append_only_in_the_database():
    """PostgreSQL (CI) refuses UPDATE and DELETE of audit rows in a trigger, whatever the client.
    SQLite has no such trigger: Django empties tables with DELETE there between transactional
    tests, so on SQLite this checks that the model's refusal is all there is."""
    event = record(actor=None, action="org.update", target_repr="acme")
    table = AuditEvent._meta.db_table
    statements = (f"UPDATE {table} SET target_repr = 'changed' WHERE id = %s", f"DELETE FROM {table} WHERE id = %s")
    for statement in statements:
        if connection.vendor == "postgresql":
            with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(statement, [event.pk])
        else:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s", [table])
                assert cursor.fetchall() == []
    assert AuditEvent.objects.get(pk=event.pk).target_repr == "acme"


def test_the_admin_shows_the_log_read_only():
    staff = make_user("moderator")
    staff.is_staff = staff.is_superuser = True
    staff.save(update_fields=["is_staff", "is_superuser"])
    event = record(actor=staff, action="org.update", target_repr="acme")
    client = Client()
    client.force_login(staff)
    assert client.get("/admin/hub/auditevent/").status_code == 200
    change = client.get(f"/admin/hub/auditevent/{event.pk}/change/")
    assert change.status_code == 200
    assert b'name="_save"' not in change.content
    assert client.post(f"/admin/hub/auditevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.get("/admin/hub/auditevent/add/").status_code == 403
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_switching_a_playground_is_recorded():
    alice = make_user("alice")
    repo = make_repo(alice, "tiny")
    commit_files(repo, alice, {"README.md": b"---\npipeline_tag: text-generation\n---\n# Tiny\n"})
    client = Client(REMOTE_ADDR=ADDRESS)
    client.force_login(alice)
    assert client.post("/alice/tiny/playground/toggle", {"enabled": "on"}).status_code == 302
    assert client.post("/alice/tiny/playground/toggle", {"enabled": "on"}).status_code == 302
    assert _events(action="repo.playground") == [
        (
            "repo.playground",
            "alice",
            "model alice/tiny",
            {"before": {"playground": False}, "after": {"playground": True}},
        )
    ]
