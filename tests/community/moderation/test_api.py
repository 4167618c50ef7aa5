"""Moderation through the REST API: reports, the queue, each action with its reason and note,
dismissals, the public log, appeals (once) and their decisions."""

from __future__ import annotations

import pytest

from community.moderation.models import Appeal, ModerationAction, Report
from hub.models import AuditEvent, User
from registry.models import Repo
from tests.community.moderation.helpers import api, make_cast
from tests.frontend.builders import make_repo

pytestmark = pytest.mark.django_db

REPO_TARGET = {"kind": "repo", "repo_type": "model", "repo_id": "alice/tiny"}


@pytest.fixture
def cast():
    return make_cast()


def _report(cast, **extra):
    body = {**REPO_TARGET, "reason": "malware", "text": "The pickle runs a shell."} | extra
    return api(cast.tokens["bob"]).post("/api/v1/reports", body, format="json")


def _disable(cast, *, reason: str, target: dict) -> dict:
    body = {"action": "disable_repo", "reason": reason, "target": target}
    return api(cast.tokens["mod"]).post("/api/v1/moderation/actions", body, format="json").json()


def test_report_then_queue_then_disable_then_log(cast):
    made = _report(cast)
    assert made.status_code == 201
    report = made.json()
    assert (report["target_kind"], report["target"], report["reason"], report["status"], report["reporter"]) == (
        "repo", "alice/tiny", "malware", "open", "bob",
    )  # fmt: skip
    assert _report(cast).status_code == 409  # one open report per reporter and target

    queue = api(cast.tokens["mod"]).get("/api/v1/moderation/reports").json()
    assert [item["id"] for item in queue["results"]] == [report["id"]]

    acted = api(cast.tokens["mod"]).post(
        "/api/v1/moderation/actions",
        {
            "action": "disable_repo",
            "reason": "malware",
            "note": "Confirmed: os.system in the pickle.",
            "report": report["id"],
        },
        format="json",
    )
    assert acted.status_code == 201
    action = acted.json()
    assert (action["kind"], action["reason"], action["note"], action["moderator"], action["report"]) == (
        "disable_repo", "malware", "Confirmed: os.system in the pickle.", "mod", report["id"],
    )  # fmt: skip
    repo = Repo.objects.get(pk=cast.repo.pk)
    assert (repo.disabled, repo.disabled_reason, repo.disabled_action) == (True, "malware", action["id"])
    assert Report.objects.get().status == "actioned"
    assert api(cast.tokens["mod"]).get("/api/v1/moderation/reports").json()["count"] == 0

    log = api().get("/api/v1/moderation/log").json()
    assert log["count"] == 1
    entry = log["results"][0]
    assert set(entry) == {"id", "kind", "target_kind", "target", "link", "reason", "reverts", "created_at"}
    assert (entry["kind"], entry["target_kind"], entry["target"], entry["link"], entry["reason"]) == (
        "disable_repo", "repo", "alice/tiny", "/alice/tiny", "malware",
    )  # fmt: skip
    # A second disable is refused and changes nothing.
    again = api(cast.tokens["mod"]).post(
        "/api/v1/moderation/actions", {"action": "disable_repo", "reason": "spam", "target": REPO_TARGET}, format="json"
    )
    assert (again.status_code, ModerationAction.objects.count()) == (409, 1)
    # The action is in the repository's audit log, by the moderator.
    [event] = AuditEvent.objects.filter(action="moderation.action")
    assert (event.actor_name, event.repo_pk, event.data["kind"], event.data["moderation_action"]) == (
        "mod", cast.repo.pk, "disable_repo", action["id"],
    )  # fmt: skip


def test_appeal_once_then_reverse(cast):
    action = _disable(cast, reason="spam", target=REPO_TARGET)
    url = f"/api/v1/moderation/actions/{action['id']}/appeal"
    assert api(cast.tokens["bob"]).post(url, {"text": "Not mine but unfair."}, format="json").status_code == 403
    made = api(cast.tokens["alice"]).post(url, {"text": "It is a real model."}, format="json")
    assert made.status_code == 201
    assert (made.json()["status"], made.json()["appellant"], made.json()["action"]["id"]) == (
        "pending", "alice", action["id"],
    )  # fmt: skip
    assert api(cast.tokens["alice"]).post(url, {"text": "Again."}, format="json").status_code == 409

    queue = api(cast.tokens["mod"]).get("/api/v1/moderation/appeals").json()
    assert [item["id"] for item in queue["results"]] == [made.json()["id"]]
    decided = api(cast.tokens["mod"]).post(
        f"/api/v1/moderation/appeals/{made.json()['id']}/decide",
        {"decision": "reverse", "note": "Fair."},
        format="json",
    )
    assert decided.status_code == 200
    assert (decided.json()["kind"], decided.json()["appeal"], decided.json()["reverts"]) == (
        "enable_repo", made.json()["id"], action["id"],
    )  # fmt: skip
    assert Repo.objects.get(pk=cast.repo.pk).disabled is False
    assert Appeal.objects.get().status == "reversed"
    again = api(cast.tokens["mod"]).post(
        f"/api/v1/moderation/appeals/{made.json()['id']}/decide", {"decision": "uphold"}, format="json"
    )
    assert again.status_code == 409
    kinds = [entry["kind"] for entry in api().get("/api/v1/moderation/log").json()["results"]]
    assert kinds == ["enable_repo", "disable_repo"]


def test_appeal_upheld_keeps_the_action_and_is_logged(cast):
    action = _disable(cast, reason="spam", target=REPO_TARGET)
    appeal = (
        api(cast.tokens["alice"])
        .post(f"/api/v1/moderation/actions/{action['id']}/appeal", {"text": "Please."}, format="json")
        .json()
    )
    decided = api(cast.tokens["mod"]).post(
        f"/api/v1/moderation/appeals/{appeal['id']}/decide",
        {"decision": "uphold", "note": "Still spam."},
        format="json",
    )
    assert (decided.status_code, decided.json()["kind"]) == (200, "uphold_appeal")
    assert Repo.objects.get(pk=cast.repo.pk).disabled is True
    assert Appeal.objects.get().status == "upheld"


def test_org_admin_appeals_for_an_org_repository(cast):
    target = {"kind": "repo", "repo_type": "model", "repo_id": "acme/shared"}
    action = (
        api(cast.tokens["mod"])
        .post(
            "/api/v1/moderation/actions", {"action": "disable_repo", "reason": "other", "target": target}, format="json"
        )
        .json()
    )
    made = api(cast.tokens["olga"]).post(
        f"/api/v1/moderation/actions/{action['id']}/appeal", {"text": "We fixed it."}, format="json"
    )
    assert made.status_code == 201


def test_suspend_and_unsuspend_a_user(cast):
    target = {"kind": "user", "username": "bob"}
    suspended = api(cast.tokens["mod"]).post(
        "/api/v1/moderation/actions",
        {"action": "suspend_user", "reason": "harassment", "note": "Threats in comments.", "target": target},
        format="json",
    )
    assert suspended.status_code == 201
    bob = User.objects.get(username="bob")
    assert (bob.is_active, bob.suspension_reason) == (False, "harassment")
    refused = api(cast.tokens["bob"]).get("/api/whoami-v2")
    assert refused.status_code == 401
    lifted = api(cast.tokens["mod"]).post(
        "/api/v1/moderation/actions", {"action": "unsuspend_user", "reason": "other", "target": target}, format="json"
    )
    assert (lifted.status_code, lifted.json()["reverts"]) == (201, suspended.json()["id"])
    assert api(cast.tokens["bob"]).get("/api/whoami-v2").status_code == 200
    audited = AuditEvent.objects.filter(action="moderation.action").order_by("id")
    assert [(e.target_repr, e.data["kind"]) for e in audited] == [("bob", "suspend_user"), ("bob", "unsuspend_user")]
    # Moderators are not suspended through the queue.
    own = api(cast.tokens["mod"]).post(
        "/api/v1/moderation/actions",
        {"action": "suspend_user", "reason": "other", "target": {"kind": "user", "username": "mod"}},
        format="json",
    )
    assert own.status_code == 403


def test_dismiss_a_report(cast):
    report = _report(cast, reason="spam", text="").json()
    dismissed = api(cast.tokens["mod"]).post(
        f"/api/v1/moderation/reports/{report['id']}/dismiss", {"reason": "other", "note": "Not spam."}, format="json"
    )
    assert (dismissed.status_code, dismissed.json()["kind"], dismissed.json()["report"]) == (
        200, "dismiss_report", report["id"],
    )  # fmt: skip
    assert Report.objects.get().status == "dismissed"
    assert Repo.objects.get(pk=cast.repo.pk).disabled is False
    again = api(cast.tokens["mod"]).post(
        f"/api/v1/moderation/reports/{report['id']}/dismiss", {"reason": "other"}, format="json"
    )
    assert again.status_code == 409


def test_report_a_user(cast):
    made = api(cast.tokens["bob"]).post(
        "/api/v1/reports", {"kind": "user", "username": "alice", "reason": "harassment"}, format="json"
    )
    assert (made.status_code, made.json()["target_kind"], made.json()["target"]) == (201, "user", "alice")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**REPO_TARGET, "reason": "other"}, "text"),  # other needs a text
        ({**REPO_TARGET, "reason": "rude"}, "reason"),
        ({**REPO_TARGET, "reason": "spam", "text": "x" * 2001}, "text"),
        ({**REPO_TARGET, "reason": "spam", "text": ["a"]}, "text"),
        ({"kind": "planet", "reason": "spam"}, "kind"),
        ({"kind": "repo", "repo_id": "no-slash", "reason": "spam"}, "repo_id"),
        ({"kind": "user", "reason": "spam"}, "username"),
        ({**REPO_TARGET, "reason": "spam", "text": "a\x00b"}, None),  # refused by the strict parser
    ],
)
def test_reports_take_strict_input(cast, body, field):
    response = api(cast.tokens["bob"]).post("/api/v1/reports", body, format="json")
    assert response.status_code == 400
    if field is None:
        assert response.json()["code"] == "malformed_request"
    else:
        assert (response.json()["code"], field in response.json()["fields"]) == ("invalid", True)
    assert Report.objects.count() == 0


def test_private_repositories_are_unknown_to_reporters_and_unnamed_in_the_log(cast):
    make_repo(cast.owner, "secret", private=True)
    target = {"kind": "repo", "repo_type": "model", "repo_id": "alice/secret"}
    assert (
        api(cast.tokens["bob"]).post("/api/v1/reports", {**target, "reason": "spam"}, format="json").status_code == 404
    )
    report = api(cast.tokens["alice"]).post("/api/v1/reports", {**target, "reason": "spam"}, format="json").json()
    assert report["target"] == "alice/secret"
    api(cast.tokens["mod"]).post(
        "/api/v1/moderation/actions",
        {"action": "disable_repo", "reason": "spam", "report": report["id"]},
        format="json",
    )
    entry = api().get("/api/v1/moderation/log").json()["results"][0]
    assert (entry["target"], entry["link"]) == ("a private model", None)
    assert "secret" not in api().get("/api/v1/moderation/log").content.decode()


def test_the_action_must_fit_the_target(cast):
    response = api(cast.tokens["mod"]).post(
        "/api/v1/moderation/actions", {"action": "suspend_user", "reason": "spam", "target": REPO_TARGET}, format="json"
    )
    assert (response.status_code, response.json()["fields"]) == (400, {"kind": ["Wrong target."]})
    response = api(cast.tokens["mod"]).post(
        "/api/v1/moderation/actions", {"action": "explode", "reason": "spam", "target": REPO_TARGET}, format="json"
    )
    assert (response.status_code, response.json()["fields"]) == (400, {"kind": ["Unknown action."]})
