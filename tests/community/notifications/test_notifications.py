"""Notifications of runs and access requests (the discussion kinds are in
``test_discussion_notifications.py``): who gets them, the inbox and email by each person's
settings, the inbox page, marking read and the unread count in the header."""

from __future__ import annotations

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from community.notifications.models import Notification
from community.notifications.services import mentions_parse, notification_settings_update
from registry.services.access_requests import access_request_create, access_request_decide
from registry.services.repos import repo_update_settings
from tests.frontend.builders import make_repo
from tests.support.factories import make_user
from training_runner.jobs.choices import RunKind, RunState
from training_runner.jobs.models import Run
from training_runner.jobs.services.lifecycle import run_cancel, run_claim, run_finish

pytestmark = pytest.mark.django_db


def _queued_run(user) -> Run:
    return Run.objects.create(kind=RunKind.EVALUATION, user=user, queued_at=timezone.now(), reason="Submitted.")


def _running_run(user) -> Run:
    run = _queued_run(user)
    run_claim(run_id=run.pk, worker="w@gpu")
    return run


def test_a_finished_run_reaches_its_submitters_inbox_and_email_only_when_asked(django_capture_on_commit_callbacks):
    ann = make_user("ann")
    run = _queued_run(ann)
    with django_capture_on_commit_callbacks(execute=True):
        run_cancel(run_id=run.pk, user=ann)
    # Her own action: nothing.
    assert Notification.objects.count() == 0

    other = _running_run(ann)
    with django_capture_on_commit_callbacks(execute=True):
        run_finish(run_id=other.pk, attempt=1, to=RunState.FAILED, reason="Out of memory.", dispatch=False)
    note = Notification.objects.get()
    assert (note.recipient, note.kind, note.title, note.body, note.path) == (
        ann,
        "run_finished",
        f"Your evaluation run #{other.pk} failed",
        "Out of memory.",
        f"/runs/{other.pk}",
    )
    assert mail.outbox == []  # run notifications are not emailed by default

    notification_settings_update(user=ann, choices={"run_finished": (False, True)})
    third = _running_run(ann)
    with django_capture_on_commit_callbacks(execute=True):
        run_finish(run_id=third.pk, attempt=1, to=RunState.FAILED, reason="Lost.", dispatch=False)
    assert Notification.objects.count() == 1  # inbox off for this kind now
    assert [(m.to, m.subject) for m in mail.outbox] == [
        (["ann@example.org"], f"[LLM Hub] Your evaluation run #{third.pk} failed")
    ]
    assert mail.outbox[0].body == f"Lost.\n\nhttp://127.0.0.1:8000/runs/{third.pk}"


def test_a_decided_access_request_is_told_to_the_person_who_asked(django_capture_on_commit_callbacks):
    alice, bob = make_user("alice"), make_user("bob")
    repo = make_repo(alice, "gated")
    repo_update_settings(repo=repo, gated="manual")
    asked = access_request_create(repo=repo, user=bob, answers={})
    with django_capture_on_commit_callbacks(execute=True):
        access_request_decide(repo=repo, request=asked, status="rejected", reason="Not now.", by=alice)
    note = Notification.objects.get()
    assert (note.recipient, note.kind, note.actor, note.title, note.body, note.path) == (
        bob,
        "access_request",
        alice,
        "Your access request to alice/gated was rejected",
        "Not now.",
        "/alice/gated",
    )
    assert [(m.to, m.subject) for m in mail.outbox] == [
        (["bob@example.org"], "[LLM Hub] Your access request to alice/gated was rejected")
    ]


def _notify(user, count: int) -> list[Notification]:
    return [
        Notification.objects.create(recipient=user, kind="mention", event_id=f"e{n}", title=f"Note {n}", path="/x")
        for n in range(count)
    ]


def test_the_inbox_lists_marks_read_and_the_header_counts_unread():
    ann = make_user("ann")
    first, _second, third = _notify(ann, 3)
    page = Client()
    page.force_login(ann)

    html = page.get("/notifications").content.decode()
    assert '<span class="badge" aria-label="3 unread">3</span>' in html
    assert html.count('class="notification notification-unread"') == 3
    assert f'<li class="notification notification-unread" id="notification-{third.pk}">' in html

    assert page.post(f"/notifications/{first.pk}/read").status_code == 302
    html = page.get("/notifications").content.decode()
    assert '<span class="badge" aria-label="2 unread">2</span>' in html
    assert f'<li class="notification" id="notification-{first.pk}">' in html
    unread = page.get("/notifications?filter=unread").content.decode()
    assert unread.count('<li class="notification') == 2

    # Someone else's notification cannot be marked through its id.
    bob = make_user("bob")
    (theirs,) = _notify(bob, 1)
    page.post(f"/notifications/{theirs.pk}/read")
    assert Notification.objects.get(pk=theirs.pk).read_at is None

    assert page.post("/notifications/read-all").status_code == 302
    html = page.get("/notifications").content.decode()
    assert "unread" not in html.split("</header>")[0]
    assert Notification.objects.filter(recipient=ann, read_at=None).count() == 0


def test_the_unread_count_costs_one_query_then_none_until_it_changes():
    ann = make_user("ann")
    _notify(ann, 2)
    page = Client()
    page.force_login(ann)
    page.get("/models")  # warm the session and the count
    with CaptureQueriesContext(connection) as first:
        page.get("/models")
    counts = [q["sql"] for q in first.captured_queries if "notifications_notification" in q["sql"]]
    assert counts == []  # cached
    page.post("/notifications/read-all")
    with CaptureQueriesContext(connection) as again:
        html = page.get("/models").content.decode()
    counts = [q["sql"] for q in again.captured_queries if "notifications_notification" in q["sql"]]
    assert len(counts) == 1
    assert 'class="nav-notifications">Notifications</a>' in html


def test_the_settings_page_saves_each_kind(django_capture_on_commit_callbacks):
    ann = make_user("ann")
    page = Client()
    page.force_login(ann)
    html = page.get("/settings/notifications").content.decode()
    assert (
        '<input type="checkbox" name="mention-email" aria-label="Mentions of you in comments: email" checked>' in html
    )
    assert '<input type="checkbox" name="run_finished-email" aria-label="Your runs finishing: email">' in html
    answer = page.post("/settings/notifications", {"mention-inbox": "on", "run_finished-email": "on"})
    assert answer.status_code == 302
    html = page.get("/settings/notifications").content.decode()
    assert '<input type="checkbox" name="mention-email" aria-label="Mentions of you in comments: email">' in html
    assert '<input type="checkbox" name="run_finished-email" aria-label="Your runs finishing: email" checked>' in html
    assert '<input type="checkbox" name="review-inbox" aria-label="Reviews of your pull requests: inbox">' in html


def test_mentions_are_parsed_from_comments():
    text = "Thanks @bob and @Carol! cc @bob, mail me at dan@example.org, see a/@x and @eve."
    assert mentions_parse(text) == ["bob", "Carol", "eve"]
