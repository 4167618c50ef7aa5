"""Moderators hide comments and lock discussions (no new comments) through the discussions'
services, from reports or named targets; the author appeals; undoing is an action too."""

from __future__ import annotations

import pytest
from django.test import Client

from common.errors import PermissionDenied
from community.models import Discussion, DiscussionEvent
from community.moderation.models import ModerationAction
from community.services.discussions import comment_add, discussion_create
from tests.community.moderation.helpers import api, make_cast
from tests.support.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def thread():
    cast = make_cast()
    discussion = discussion_create(
        repo=cast.repo, user=cast.owner, title="Loss?", description="What loss?", pull_request=False
    )
    rude = comment_add(discussion=discussion, user=cast.reporter, content="You are all idiots.")
    return cast, discussion, rude


def _act(cast, action: str, **target):
    body = {"action": action, "reason": "harassment", "note": "Per the rules.", "target": target}
    return api(cast.tokens["mod"]).post("/api/v1/moderation/actions", body, format="json")


def test_report_a_comment_then_hide_it_and_the_author_appeals(thread):
    cast, discussion, rude = thread
    target = {"kind": "comment", "repo_id": "alice/tiny", "num": discussion.num, "comment_id": rude.pk}
    made = api(cast.tokens["olga"]).post("/api/v1/reports", {**target, "reason": "harassment"}, format="json")
    assert (made.status_code, made.json()["target"]) == (201, f"alice/tiny#{discussion.num} comment {rude.pk}")
    hidden = api(cast.tokens["mod"]).post(
        "/api/v1/moderation/actions", {"action": "hide_comment", "reason": "harassment", "report": made.json()["id"]},
        format="json",
    )  # fmt: skip
    assert hidden.status_code == 201
    assert DiscussionEvent.objects.get(pk=rude.pk).data["hidden"] is True
    # The author of the comment may appeal it; the repository's owner may not.
    url = f"/api/v1/moderation/actions/{hidden.json()['id']}/appeal"
    assert api(cast.tokens["alice"]).post(url, {"text": "Mine?"}, format="json").status_code == 403
    appeal = api(cast.tokens["bob"]).post(url, {"text": "It was a joke."}, format="json")
    assert appeal.status_code == 201
    reversed_ = api(cast.tokens["mod"]).post(
        f"/api/v1/moderation/appeals/{appeal.json()['id']}/decide", {"decision": "reverse"}, format="json"
    )
    assert (reversed_.status_code, reversed_.json()["kind"]) == (200, "unhide_comment")
    assert DiscussionEvent.objects.get(pk=rude.pk).data["hidden"] is False


def test_lock_a_discussion_stops_comments_until_unlocked(thread):
    cast, discussion, _rude = thread
    locked = _act(cast, "lock_discussion", kind="discussion", repo_id="alice/tiny", num=discussion.num)
    assert locked.status_code == 201
    assert Discussion.objects.get(pk=discussion.pk).locked is True
    with pytest.raises(PermissionDenied):
        comment_add(discussion=Discussion.objects.get(pk=discussion.pk), user=cast.owner, content="Hello?")
    hf = api(cast.tokens["alice"]).post(
        f"/api/models/alice/tiny/discussions/{discussion.num}/comment", {"comment": "Hello?"}, format="json"
    )
    assert hf.status_code == 403
    client = Client()
    client.login(username="alice", password=DEFAULT_PASSWORD)
    page = client.get(f"/alice/tiny/discussions/{discussion.num}").content.decode()
    assert 'id="discussion-locked"' in page
    assert 'id="comment-text"' not in page
    assert _act(cast, "lock_discussion", kind="discussion", repo_id="alice/tiny", num=discussion.num).status_code == 409

    unlocked = _act(cast, "unlock_discussion", kind="discussion", repo_id="alice/tiny", num=discussion.num)
    assert (unlocked.status_code, unlocked.json()["reverts"]) == (201, locked.json()["id"])
    comment_add(discussion=Discussion.objects.get(pk=discussion.pk), user=cast.owner, content="Hello again.")
    kinds = [entry["kind"] for entry in api().get("/api/v1/moderation/log").json()["results"]]
    assert kinds == ["unlock_discussion", "lock_discussion"]
    assert ModerationAction.objects.count() == 2


def test_report_links_on_the_discussion_page(thread):
    _cast, discussion, rude = thread
    client = Client()
    client.login(username="olga", password=DEFAULT_PASSWORD)
    page = client.get(f"/alice/tiny/discussions/{discussion.num}").content.decode()
    base = f"/moderation/report?kind={{}}&amp;repo_type=model&amp;repo_id=alice/tiny&amp;num={discussion.num}"
    assert f'href="{base.format("discussion")}"' in page
    assert f'href="{base.format("comment")}&amp;comment_id={rude.pk}"' in page
    form = client.get(f"/moderation/report?kind=comment&repo_id=alice/tiny&num={discussion.num}&comment_id={rude.pk}")
    assert form.status_code == 200
    assert (
        client.get(
            f"/moderation/report?kind=comment&repo_id=alice/tiny&num={discussion.num}&comment_id=999999"
        ).status_code
        == 404
    )


def test_the_discussion_page_offers_the_author_an_appeal_of_a_hidden_comment_and_of_a_lock(thread):
    cast, discussion, rude = thread
    page_url = f"/alice/tiny/discussions/{discussion.num}"
    _act(cast, "hide_comment", kind="comment", repo_id="alice/tiny", num=discussion.num, comment_id=rude.pk)
    _act(cast, "lock_discussion", kind="discussion", repo_id="alice/tiny", num=discussion.num)
    hide, lock = ModerationAction.objects.order_by("pk")
    bob, alice = Client(), Client()
    assert bob.login(username="bob", password=DEFAULT_PASSWORD)
    assert alice.login(username="alice", password=DEFAULT_PASSWORD)

    seen_by_bob = bob.get(page_url).content.decode()
    assert f'id="appeal-form-{hide.pk}"' in seen_by_bob
    assert "(hiding this comment, harassment)" in seen_by_bob
    assert f"appeal-form-{lock.pk}" not in seen_by_bob  # the lock is the discussion author's to appeal
    seen_by_alice = alice.get(page_url).content.decode()
    assert f'id="appeal-form-{lock.pk}"' in seen_by_alice
    assert f"appeal-form-{hide.pk}" not in seen_by_alice
    assert "appeal-form" not in Client().get(page_url).content.decode()

    sent = bob.post(f"/moderation/actions/{hide.pk}/appeal", {"text": "It was a joke.", "next": page_url})
    assert (sent.status_code, sent["Location"]) == (302, page_url)
    after = bob.get(page_url).content.decode()
    assert f'id="appeal-status-{hide.pk}" data-status="pending"' in after
    assert f"appeal-form-{hide.pk}" not in after
