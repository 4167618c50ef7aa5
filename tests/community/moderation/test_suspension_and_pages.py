"""Suspended accounts cannot log in (the form says why), lose their sessions and tokens; the
pages: the report form, the queue's actions, the public log, the appeal form on a repository."""

from __future__ import annotations

import pytest
from django.test import Client

from community.moderation.models import Appeal, ModerationAction, Report
from community.moderation.selectors import user_target
from community.moderation.services import action_take
from registry.models import Repo
from tests.community.moderation.helpers import api, make_cast
from tests.frontend.builders import make_repo
from tests.support.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def cast():
    return make_cast()


def _client(username: str) -> Client:
    client = Client()
    assert client.login(username=username, password=DEFAULT_PASSWORD)
    return client


def test_a_suspended_account_cannot_log_in_and_loses_its_session_and_tokens(cast):
    session = _client("bob")
    assert session.get("/settings/profile").status_code == 200
    action_take(moderator=cast.moderator, kind="suspend_user", target=user_target(name="bob"), reason="spam")

    assert session.get("/settings/profile").status_code == 302  # the session no longer counts
    response = Client().post("/login", {"username": "bob", "password": DEFAULT_PASSWORD})
    assert response.status_code == 200
    assert "This account was suspended by the moderators on " in response.content.decode()
    assert "(reason: spam)" in response.content.decode()
    wrong = Client().post("/login", {"username": "bob", "password": "not-the-password"})
    assert "suspended" not in wrong.content.decode()  # no hint without the password
    assert api(cast.tokens["bob"]).get("/api/whoami-v2").status_code == 401
    assert (
        api(cast.tokens["bob"])
        .post("/api/v1/reports", {"kind": "user", "username": "alice", "reason": "spam"}, format="json")
        .status_code
        == 401
    )

    action_take(
        moderator=cast.moderator,
        kind="unsuspend_user",
        target=user_target(name="bob", include_suspended=True),
        reason="other",
    )
    assert Client().login(username="bob", password=DEFAULT_PASSWORD)
    assert api(cast.tokens["bob"]).get("/api/whoami-v2").status_code == 200


def test_report_a_repository_from_its_page(cast):
    bob = _client("bob")
    page = bob.get("/alice/tiny").content.decode()
    assert 'href="/moderation/report?kind=repo&amp;repo_type=model&amp;repo_id=alice/tiny"' in page
    form = bob.get("/moderation/report?kind=repo&repo_type=model&repo_id=alice/tiny")
    assert (form.status_code, "Report repository alice/tiny" in form.content.decode()) == (200, True)
    sent = bob.post(
        "/moderation/report",
        {
            "kind": "repo",
            "repo_type": "model",
            "repo_id": "alice/tiny",
            "reason": "licence_violation",
            "text": "GPL code.",
        },
    )
    assert (sent.status_code, sent["Location"]) == (302, "/alice/tiny")
    report = Report.objects.get()
    assert (report.reporter.username, report.reason, report.text, report.target_repo_id) == (
        "bob", "licence_violation", "GPL code.", cast.repo.pk,
    )  # fmt: skip
    missing_text = bob.post("/moderation/report", {"kind": "repo", "repo_id": "alice/tiny", "reason": "other"})
    assert missing_text.status_code == 400
    assert Client().get("/moderation/report?kind=repo&repo_id=alice/tiny").status_code == 302


def test_report_a_user_from_the_profile(cast):
    bob = _client("bob")
    assert 'href="/moderation/report?kind=user&amp;username=alice"' in bob.get("/alice").content.decode()
    assert 'id="report-user"' not in _client("alice").get("/alice").content.decode()  # not oneself
    sent = bob.post("/moderation/report", {"kind": "user", "username": "alice", "reason": "harassment", "text": ""})
    assert (sent.status_code, sent["Location"]) == (302, "/alice")


def test_the_queue_acts_and_the_log_shows_it_and_the_owner_appeals(cast):
    api(cast.tokens["bob"]).post(
        "/api/v1/reports", {"kind": "repo", "repo_id": "alice/tiny", "reason": "malware"}, format="json"
    )
    report = Report.objects.get()
    moderator = _client("mod")
    queue = moderator.get("/moderation/")
    assert queue.status_code == 200
    assert f'data-report="{report.pk}"' in queue.content.decode()
    acted = moderator.post(
        f"/moderation/reports/{report.pk}/act", {"action": "disable_repo", "reason": "malware", "note": "Checked."}
    )
    assert (acted.status_code, Repo.objects.get(pk=cast.repo.pk).disabled) == (302, True)
    action = ModerationAction.objects.get()

    log = Client().get("/moderation/log").content.decode()
    assert f'<tr id="action-{action.pk}" data-kind="disable_repo">' in log
    assert '<a href="/alice/tiny">alice/tiny</a>' in log
    assert "Checked." not in log  # no note
    assert ">bob<" not in log  # no reporter

    owner = _client("alice")
    page = owner.get("/alice/tiny").content.decode()
    assert 'id="repo-disabled"' in page
    assert f'id="appeal-form-{action.pk}"' in page
    assert "appeal-form" not in _client("bob").get("/alice/tiny").content.decode()
    appealed = owner.post(f"/moderation/actions/{action.pk}/appeal", {"text": "False positive.", "next": "/alice/tiny"})
    assert (appealed.status_code, appealed["Location"]) == (302, "/alice/tiny")
    assert f'id="appeal-status-{action.pk}" data-status="pending"' in owner.get("/alice/tiny").content.decode()
    appeal = Appeal.objects.get()
    assert f'data-appeal="{appeal.pk}"' in moderator.get("/moderation/").content.decode()
    decided = moderator.post(f"/moderation/appeals/{appeal.pk}/decide", {"decision": "reverse", "note": "Agreed."})
    assert (decided.status_code, Repo.objects.get(pk=cast.repo.pk).disabled) == (302, False)
    assert [a.kind for a in ModerationAction.objects.order_by("pk")] == ["disable_repo", "enable_repo"]


def test_the_log_names_no_private_repository(cast):
    secret = make_repo(cast.owner, "secret", private=True)
    from community.moderation.selectors import repo_target

    action_take(
        moderator=cast.moderator, kind="disable_repo", reason="spam",
        target=repo_target(user=cast.owner, repo_type="model", namespace="alice", name="secret"),
    )  # fmt: skip
    log = Client().get("/moderation/log").content.decode()
    assert "a private model" in log
    assert "secret" not in log
    assert secret.pk == Repo.objects.get(name="secret").pk


def test_a_suspended_account_appeals_with_its_password_once_and_a_reversal_lets_it_log_in(cast):
    action_take(moderator=cast.moderator, kind="suspend_user", target=user_target(name="bob"), reason="spam")
    login = Client().post("/login", {"username": "bob", "password": DEFAULT_PASSWORD})
    assert 'href="/moderation/suspension-appeal"' in login.content.decode()
    wrong_login = Client().post("/login", {"username": "bob", "password": "not-the-password"})
    assert "suspension-appeal" not in wrong_login.content.decode()

    page = Client()
    assert page.get("/moderation/suspension-appeal").status_code == 200
    wrong = page.post(
        "/moderation/suspension-appeal", {"username": "bob", "password": "not-it", "text": "I am not a spammer."}
    )
    assert wrong.status_code == 400
    assert "No suspended account has this name and password." in wrong.content.decode()
    not_suspended = page.post(
        "/moderation/suspension-appeal", {"username": "alice", "password": DEFAULT_PASSWORD, "text": "Hello."}
    )
    assert not_suspended.status_code == 400  # an active account has nothing to appeal, and is not told apart
    assert page.post("/moderation/suspension-appeal", {"username": "bob"}).status_code == 400  # text missing
    assert not Appeal.objects.exists()

    sent = page.post(
        "/moderation/suspension-appeal",
        {"username": "bob", "password": DEFAULT_PASSWORD, "text": "I am not a spammer."},
    )
    assert sent.status_code == 200
    assert 'id="appeal-sent"' in sent.content.decode()
    appeal = Appeal.objects.get()
    assert appeal.appellant.username == "bob"
    assert appeal.action.kind == "suspend_user"
    again = page.post(
        "/moderation/suspension-appeal", {"username": "bob", "password": DEFAULT_PASSWORD, "text": "Please."}
    )
    assert again.status_code == 409
    assert Appeal.objects.count() == 1

    moderator = _client(cast.moderator.username)
    assert moderator.post(f"/moderation/appeals/{appeal.pk}/decide", {"decision": "reverse"}).status_code == 302
    assert Client().login(username="bob", password=DEFAULT_PASSWORD)


def test_wrong_passwords_on_the_suspension_appeal_count_towards_the_log_in_lockout(cast, settings):
    settings.HUB_LOGIN_MAX_FAILURES = 2
    action_take(moderator=cast.moderator, kind="suspend_user", target=user_target(name="bob"), reason="spam")
    page = Client()
    for _ in range(2):
        page.post("/moderation/suspension-appeal", {"username": "bob", "password": "guess", "text": "x"})
    locked = page.post("/moderation/suspension-appeal", {"username": "bob", "password": DEFAULT_PASSWORD, "text": "x"})
    assert locked.status_code == 429
    assert "Too many failed log-ins" in locked.content.decode()
    assert not Appeal.objects.exists()
