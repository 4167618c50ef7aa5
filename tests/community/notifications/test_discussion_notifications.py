"""Notifications of discussions and pull requests: watchers (the owner, organization members with
write access), participants, people mentioned, reviewers asked, authors reviewed or whose checks
failed — each once per event, in the inbox and by email as their settings say."""

from __future__ import annotations

import pytest
from django.core import mail

from community.notifications.models import Notification
from community.services.discussions import (
    comment_add,
    discussion_change_status,
    discussion_create,
    pull_request_checks_failed,
    pull_request_merge,
    pull_request_propose,
    review_request,
    review_submit,
)
from registry.services.commits import AddFile
from registry.storage import stage_bytes
from tests.frontend.builders import commit_files, make_repo
from tests.support.factories import make_org, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    """alice admins acme, wendy writes in it, rita reads; carol and dan are outsiders."""
    names = ("alice", "wendy", "rita", "carol", "dan")
    users = {name: make_user(name) for name in names}
    make_org("acme", admin=users["alice"], members={"wendy": "write", "rita": "read"})
    return users


@pytest.fixture
def repo(people):
    from hub.models import Namespace

    repo = make_repo(people["alice"], "tiny", namespace=Namespace.objects.get(name="acme"))
    commit_files(repo, people["alice"], {"base.txt": b"one\n"})
    return repo


def _inbox() -> list[tuple[str, str, str]]:
    rows = Notification.objects.order_by("recipient__username")
    return [(n.recipient.username, n.kind, n.title) for n in rows]


def _mailed() -> list[tuple[str, str]]:
    return sorted((m.to[0].split("@")[0], m.subject) for m in mail.outbox)


def test_a_new_discussion_reaches_watchers_and_the_people_it_mentions(people, repo, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        opened = discussion_create(
            repo=repo, user=people["carol"], title="Typo", description="Hi @rita and @nobody", pull_request=False
        )
    ref = f"#{opened.num} of acme/tiny (Typo)"
    assert _inbox() == [
        ("alice", "discussion", f"carol opened discussion {ref}"),
        ("rita", "mention", f"carol mentioned you in {ref}"),
        ("wendy", "discussion", f"carol opened discussion {ref}"),
    ]
    assert Notification.objects.get(recipient__username="rita").path == f"/acme/tiny/discussions/{opened.num}"
    # Mentions are emailed by default, plain activity is not.
    assert _mailed() == [("rita", f"[LLM Hub] carol mentioned you in {ref}")]
    assert mail.outbox[0].body == f"Hi @rita and @nobody\n\nhttp://127.0.0.1:8000/acme/tiny/discussions/{opened.num}"


def test_comments_and_status_changes_reach_participants(people, repo, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        opened = discussion_create(repo=repo, user=people["carol"], title="Typo", description="", pull_request=False)
    Notification.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        comment_add(discussion=opened, user=people["dan"], content="Same here.")
    ref = f"#{opened.num} of acme/tiny (Typo)"
    assert _inbox() == [
        ("alice", "discussion", f"dan commented on {ref}"),
        ("carol", "discussion", f"dan commented on {ref}"),
        ("wendy", "discussion", f"dan commented on {ref}"),
    ]
    Notification.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        discussion_change_status(discussion=opened, user=people["wendy"], status="closed")
    assert _inbox() == [
        ("alice", "status", f"wendy closed discussion {ref}"),
        ("carol", "status", f"wendy closed discussion {ref}"),
        ("dan", "status", f"wendy closed discussion {ref}"),
    ]
    assert _mailed() == [(name, f"[LLM Hub] wendy closed discussion {ref}") for name in ("alice", "carol", "dan")]


def test_pull_request_reviews_merges_and_failed_checks(people, repo, django_capture_on_commit_callbacks):
    operations = [AddFile(path="a.txt", staged=stage_bytes(b"a"))]
    with django_capture_on_commit_callbacks(execute=True):
        pr = pull_request_propose(
            repo=repo, user=people["carol"], branch="main", operations=operations, summary="Add a"
        )
    Notification.objects.all().delete()
    mail.outbox.clear()
    ref = f"#{pr.num} of acme/tiny (Add a)"

    with django_capture_on_commit_callbacks(execute=True):
        review_request(discussion=pr, user=people["carol"], reviewers=[people["wendy"]])
    assert _inbox() == [("wendy", "review_requested", f"carol asked for your review of {ref}")]
    assert _mailed() == [("wendy", f"[LLM Hub] carol asked for your review of {ref}")]

    Notification.objects.all().delete()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        review_submit(discussion=pr, user=people["wendy"], state="approved", comment="Looks good, @dan.")
    assert _inbox() == [
        ("alice", "discussion", f"wendy approved {ref}"),
        ("carol", "review", f"wendy approved {ref}"),
        ("dan", "mention", f"wendy mentioned you in {ref}"),
    ]
    assert _mailed() == [
        ("carol", f"[LLM Hub] wendy approved {ref}"),
        ("dan", f"[LLM Hub] wendy mentioned you in {ref}"),
    ]

    Notification.objects.all().delete()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        pull_request_checks_failed(discussion=pr, check="Card lint", summary="license: missing")
    assert _inbox() == [("carol", "checks_failed", f"Card lint failed on {ref}")]
    assert Notification.objects.get().body == "license: missing"

    Notification.objects.all().delete()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        pull_request_merge(discussion=pr, user=people["alice"])
    # The author and the reviewer took part and wendy watches; dan was only mentioned.
    assert _inbox() == [
        ("carol", "status", f"alice merged pull request {ref}"),
        ("wendy", "status", f"alice merged pull request {ref}"),
    ]


def test_review_requests_need_writers(people, repo):
    from common.errors import ValidationError

    pr = discussion_create(repo=repo, user=people["carol"], title="PR", description="", pull_request=True)
    with pytest.raises(ValidationError, match="rita cannot review #1"):
        review_request(discussion=pr, user=people["carol"], reviewers=[people["rita"]])


def test_private_repositories_notify_only_their_members(people, django_capture_on_commit_callbacks):
    from hub.models import Namespace

    private = make_repo(people["alice"], "secret", namespace=Namespace.objects.get(name="acme"), private=True)
    with django_capture_on_commit_callbacks(execute=True):
        discussion_create(
            repo=private, user=people["wendy"], title="Plan", description="@carol @rita look", pull_request=False
        )
    assert [(name, kind) for name, kind, _title in _inbox()] == [("alice", "discussion"), ("rita", "mention")]


def test_settings_turn_off_a_kind(people, repo, django_capture_on_commit_callbacks):
    from community.notifications.services import notification_settings_update

    notification_settings_update(user=people["rita"], choices={"mention": (False, False)})
    with django_capture_on_commit_callbacks(execute=True):
        discussion_create(repo=repo, user=people["carol"], title="T", description="@rita", pull_request=False)
    assert [name for name, _kind, _title in _inbox()] == ["alice", "wendy"]
    assert mail.outbox == []


def test_the_pull_request_page_asks_for_reviews(people, repo, django_capture_on_commit_callbacks):
    from django.test import Client

    pr = discussion_create(repo=repo, user=people["carol"], title="PR", description="", pull_request=True)
    page = Client()
    page.force_login(people["carol"])
    html = page.get(f"/acme/tiny/discussions/{pr.num}").content.decode()
    assert f'<form method="post" action="/acme/tiny/discussions/{pr.num}/request-review">' in html
    with django_capture_on_commit_callbacks(execute=True):
        answer = page.post(f"/acme/tiny/discussions/{pr.num}/request-review", {"reviewers": "@wendy"})
    assert answer.status_code == 302
    assert _inbox() == [("wendy", "review_requested", f"carol asked for your review of #{pr.num} of acme/tiny (PR)")]

    refused = page.post(f"/acme/tiny/discussions/{pr.num}/request-review", {"reviewers": "wendy, nobody"})
    assert refused.status_code == 400
    assert '<p class="field-error" role="alert" id="reviewers-error">' in refused.content.decode()
