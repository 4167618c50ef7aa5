"""Moderation is for moderators only: every moderation endpoint (REST and pages) refuses the
anonymous visitor, a plain user, the repository's owner and an organization admin, and changes
nothing; staff are moderators too."""

from __future__ import annotations

import pytest
from django.test import Client

from community.moderation.models import Appeal, ModerationAction, Report
from community.moderation.selectors import repo_target
from community.moderation.services import action_take, appeal_create, report_create
from registry.models import Repo
from tests.community.moderation.helpers import api, make_cast
from tests.support.factories import DEFAULT_PASSWORD, make_token, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def state():
    cast = make_cast()
    target = repo_target(user=cast.owner, repo_type="model", namespace="alice", name="tiny")
    report = report_create(reporter=cast.reporter, target=target, reason="spam", text="")
    action = action_take(moderator=cast.moderator, kind="disable_repo", target=target, reason="spam")
    appeal = appeal_create(user=cast.owner, action=action, text="Please.")
    second = report_create(reporter=cast.org_admin, target=target, reason="spam", text="")
    return cast, report, second, appeal


def _api_calls(second, appeal):
    target = {"kind": "repo", "repo_id": "alice/tiny"}
    return [
        ("get", "/api/v1/moderation/reports", None),
        ("get", "/api/v1/moderation/appeals", None),
        ("post", "/api/v1/moderation/actions", {"action": "enable_repo", "reason": "other", "target": target}),
        ("post", "/api/v1/moderation/actions", {"action": "disable_repo", "reason": "spam", "report": second.pk}),
        ("post", f"/api/v1/moderation/reports/{second.pk}/dismiss", {"reason": "other"}),
        ("post", f"/api/v1/moderation/appeals/{appeal.pk}/decide", {"decision": "reverse"}),
    ]


def _page_calls(second, appeal):
    return [
        ("get", "/moderation/", None),
        ("post", f"/moderation/reports/{second.pk}/act", {"action": "dismiss", "reason": "other"}),
        ("post", f"/moderation/appeals/{appeal.pk}/decide", {"decision": "reverse"}),
    ]


def _snapshot():
    return (
        ModerationAction.objects.count(),
        list(Report.objects.order_by("pk").values_list("status", flat=True)),
        Appeal.objects.get().status,
        Repo.objects.get(name="tiny").disabled,
    )


@pytest.mark.parametrize("who", ["anonymous", "bob", "alice", "olga"])
def test_rest_endpoints_refuse_non_moderators(state, who):
    cast, _report, second, appeal = state
    before = _snapshot()
    client = api(None if who == "anonymous" else cast.tokens[who])
    for method, url, body in _api_calls(second, appeal):
        response = getattr(client, method)(url, body, format="json") if body else getattr(client, method)(url)
        expected = 401 if who == "anonymous" else 403
        assert (url, response.status_code, response.json()["code"]) == (
            url, expected, "unauthenticated" if who == "anonymous" else "forbidden",
        )  # fmt: skip
    assert _snapshot() == before


@pytest.mark.parametrize("who", ["anonymous", "bob", "alice", "olga"])
def test_pages_refuse_non_moderators(state, who):
    _cast, _report, second, appeal = state
    before = _snapshot()
    client = Client()
    if who != "anonymous":
        client.login(username=who, password=DEFAULT_PASSWORD)
    for method, url, body in _page_calls(second, appeal):
        response = getattr(client, method)(url, body or {})
        if who == "anonymous":
            assert (url, response.status_code, response["Location"].startswith("/login?next=")) == (url, 302, True)
        else:
            assert (url, response.status_code) == (url, 403)
    assert _snapshot() == before


def test_staff_are_moderators_and_read_tokens_cannot_act(state):
    cast, _report, second, _appeal = state
    staff = make_user("stella")
    staff.is_staff = True
    staff.save(update_fields=["is_staff"])
    assert api(make_token(staff)).get("/api/v1/moderation/reports").json()["count"] == 2
    read_only = api(make_token(cast.moderator, role="read"))
    refused = read_only.post(f"/api/v1/moderation/reports/{second.pk}/dismiss", {"reason": "other"}, format="json")
    assert refused.status_code == 403
    assert Report.objects.get(pk=second.pk).status == "open"
