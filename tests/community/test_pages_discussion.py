"""Taking part in the Community tab: who may see and post, opening discussions and draft pull
requests, comments (sanitised markdown, edits, hiding), renaming, closing and reopening."""

import pytest
from django.test import Client

from community.models import Discussion, DiscussionEvent
from community.services.discussions import (
    comment_add,
    discussion_create,
)
from registry.services.refs import branch_create
from tests.community.helpers import client_for, head, propose, url
from tests.frontend.builders import commit_files, fast_passwords, make_repo  # noqa: F401
from tests.support.factories import make_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_passwords")]


# --------------------------------------------------------------------------------- permissions


def test_private_repository_community_is_404_to_outsiders(alice, bob):
    secret = make_repo(alice, "secret", private=True)
    commit_files(secret, alice, {"w.txt": b"private weights"})
    pr = discussion_create(repo=secret, user=alice, title="Secret plan", description="hush", pull_request=True)
    for client in (Client(), client_for(bob)):
        for path in ("/alice/secret/discussions", f"/alice/secret/discussions/{pr.num}",
                     f"/alice/secret/discussions/{pr.num}/files", "/alice/secret/discussions/new"):  # fmt: skip
            response = client.get(path)
            assert response.status_code == 404, path
            assert b"Secret plan" not in response.content
    response = client_for(bob).post(f"/alice/secret/discussions/{pr.num}/comment", {"comment": "let me in"})
    assert response.status_code == 404
    assert DiscussionEvent.objects.filter(discussion=pr).count() == 1
    assert client_for(alice).get(f"/alice/secret/discussions/{pr.num}").status_code == 200


def test_anonymous_visitors_are_sent_to_log_in(repo, alice):
    pr = propose(repo, alice, {"x.txt": b"x"})
    new = Client().get("/alice/tiny/discussions/new")
    assert (new.status_code, new["Location"]) == (302, "/login?next=/alice/tiny/discussions/new")
    for action in ("comment", "status", "title", "review", "merge"):
        response = Client().post(url(pr, f"/{action}"), {"comment": "hi", "status": "closed", "title": "x"})
        assert (response.status_code, response["Location"]) == (302, f"/login?next={url(pr, '/' + action)}")
    html = Client().get(url(pr)).content.decode()
    assert '<a href="/login?next=/alice/tiny/discussions/1">Log in</a> to comment.' in html
    assert Discussion.objects.get(pk=pr.pk).status == "open"


def test_every_post_needs_the_csrf_token(repo, alice):
    pr = propose(repo, alice, {"x.txt": b"x"})
    comment = comment_add(discussion=pr, user=alice, content="mine")
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    posts = {
        "/alice/tiny/discussions/new": {"title": "New"},
        url(pr, "/comment"): {"comment": "hi"},
        url(pr, "/status"): {"status": "closed"},
        url(pr, "/title"): {"title": "Renamed"},
        url(pr, "/merge"): {},
        url(pr, f"/comments/{comment.pk}/edit"): {"comment": "changed"},
        url(pr, f"/comments/{comment.pk}/hide"): {},
        "/alice/tiny/edit/main/base.txt": {"content": "x", "parent": head(repo).oid, "action": "commit"},
    }
    for path, data in posts.items():
        assert client.post(path, data).status_code == 403, path
    pr.refresh_from_db()
    assert (pr.title, pr.status, Discussion.objects.count()) == ("Propose", "open", 1)
    assert DiscussionEvent.objects.filter(discussion=pr).count() == 2  # the commit and "mine"


# ------------------------------------------------------------------------------ taking part


def test_new_discussion_from_the_form(repo, bob):
    client = client_for(bob)
    page = client.get("/alice/tiny/discussions/new")
    assert "target_branch" not in page.context["form"].fields
    invalid = client.post("/alice/tiny/discussions/new", {"title": "", "description": "text kept"})
    assert invalid.status_code == 400
    assert invalid.context["form"].errors == {"title": ["This field is required."]}
    assert "text kept</textarea>" in invalid.content.decode()
    response = client.post("/alice/tiny/discussions/new", {"title": "Why 3 layers?", "description": "Curious."})
    assert (response.status_code, response["Location"]) == (302, "/alice/tiny/discussions/1")
    discussion = Discussion.objects.get()
    assert (discussion.title, discussion.is_pull_request, discussion.status) == ("Why 3 layers?", False, "open")
    assert [event.data["content"] for event in discussion.events.all()] == ["Curious."]


def test_new_pull_request_starts_empty_as_a_draft_on_a_branch(repo, alice, bob):
    branch_create(repo=repo, branch="dev", starting_point="main")
    commit_files(repo, alice, {"only-dev.txt": b"d"}, branch="dev")
    client = client_for(bob)
    form = client.get("/alice/tiny/discussions/new?type=pull_request").context["form"]
    assert form.fields["target_branch"].choices == [("main", "main"), ("dev", "dev")]
    data = {"title": "Tune dev", "description": "", "target_branch": "dev"}
    response = client.post("/alice/tiny/discussions/new?type=pull_request", data)
    assert (response.status_code, response["Location"]) == (302, "/alice/tiny/discussions/1")
    pr = Discussion.objects.get()
    assert (pr.is_pull_request, pr.status, pr.target_ref) == (True, "draft", "refs/heads/dev")
    assert repo.refs.get(name="refs/pr/1").target_oid == head(repo, "refs/heads/dev").oid
    html = client.get(url(pr)).content.decode()
    assert "wants to merge <code>refs/pr/1</code> into <code>dev</code>" in html
    assert '<p class="muted" id="merge-blocker">This pull request is a draft: publish it to allow merging.' in html
    files = client.get(url(pr, "/files")).content.decode()
    assert '<p class="empty" id="no-changes">No changes yet. <a href="/alice/tiny/upload/refs/pr/1">' in files


def test_comment_is_rendered_as_sanitised_markdown_and_titles_stay_text(repo, bob):
    title = '<script>alert("t")</script><img src=x onerror=alert(2)>'
    discussion = discussion_create(repo=repo, user=bob, title=title, description="", pull_request=False)
    payload = (
        '**bold** <script>alert("c")</script><img src="x" onerror="alert(3)">'
        '[link](javascript:alert(4)) <a href="data:text/html,hi" onclick="alert(5)">a</a> [rel](base.txt)'
    )
    response = client_for(bob).post(url(discussion, "/comment"), {"comment": payload})
    event = DiscussionEvent.objects.get()
    assert (response.status_code, response["Location"]) == (302, f"/alice/tiny/discussions/1#event-{event.pk}")
    page = Client().get(url(discussion))
    html = page.content.decode()
    (item,) = page.context["items"]
    assert item.html == (
        '<p><strong>bold</strong> <img src="/alice/tiny/resolve/main/x">[link](javascript:alert(4)) '
        '<a rel="nofollow noopener noreferrer">a</a> '
        '<a href="/alice/tiny/blob/main/base.txt" rel="nofollow noopener noreferrer">rel</a></p>\n'
    )
    for raw in ("<script>alert", "<img src=x", 'onerror="', 'onclick="', 'href="javascript:', "data:text/html"):
        assert raw not in html, raw
    escaped = "&lt;script&gt;alert(&quot;t&quot;)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;"
    assert f'<span id="discussion-title">{escaped}</span>' in html
    listing = Client().get("/alice/tiny/discussions").content.decode()
    assert f'/alice/tiny/discussions/1">{escaped}</a>' in listing


def test_empty_comment_re_renders_the_page_with_the_error(repo, bob):
    discussion = discussion_create(repo=repo, user=bob, title="Q", description="", pull_request=False)
    response = client_for(bob).post(url(discussion, "/comment"), {"comment": "   "})
    assert response.status_code == 400
    assert response.context["error"].message == "A comment cannot be empty."
    assert '<p class="field-error" role="alert" id="comment-error">A comment cannot be empty.</p>' in (
        response.content.decode()
    )
    assert DiscussionEvent.objects.count() == 0


def test_only_the_author_edits_a_comment(repo, alice, bob):
    discussion = discussion_create(repo=repo, user=bob, title="Q", description="teh typo", pull_request=False)
    comment = discussion.events.get()
    edit = url(discussion, f"/comments/{comment.pk}/edit")
    owner_page = client_for(alice).get(url(discussion))
    assert owner_page.context["items"][0].can_edit is False  # a moderator may hide, not rewrite
    assert client_for(alice).post(edit, {"comment": "rewritten"}).status_code == 403
    empty = client_for(bob).post(edit, {"comment": ""})
    assert empty.status_code == 400
    assert empty.context["items"][0].edit_error.message == "A comment cannot be empty."
    response = client_for(bob).post(edit, {"comment": "the typo"})
    assert response.status_code == 302
    comment.refresh_from_db()
    assert (comment.data["content"], comment.data["edited"]) == ("the typo", True)
    assert [version["content"] for version in comment.data["history"]] == ["teh typo"]
    assert '<span class="muted">· edited</span>' in Client().get(url(discussion)).content.decode()


def test_hiding_is_for_the_author_or_moderators_and_keeps_the_text_for_moderators(repo, alice, bob):
    carol = make_user("carol")
    discussion = discussion_create(repo=repo, user=bob, title="Q", description="", pull_request=False)
    comment = comment_add(discussion=discussion, user=bob, content="regrettable words")
    hide = url(discussion, f"/comments/{comment.pk}/hide")
    assert client_for(carol).post(hide).status_code == 403
    assert client_for(alice).post(hide).status_code == 302
    comment.refresh_from_db()
    assert comment.data["hidden"] is True
    for client in (Client(), client_for(carol), client_for(bob)):
        html = client.get(url(discussion)).content.decode()
        assert "This comment has been hidden." in html
        assert "regrettable words" not in html
    moderator_view = client_for(alice).get(url(discussion)).content.decode()
    assert "<summary>Show the hidden text (visible to moderators)</summary>" in moderator_view
    assert "<p>regrettable words</p>" in moderator_view


def test_rename_by_the_author_or_writers_only(repo, alice, bob):
    discussion = discussion_create(repo=repo, user=bob, title="Speling", description="", pull_request=False)
    assert client_for(make_user("carol")).post(url(discussion, "/title"), {"title": "Hijack"}).status_code == 403
    too_long = client_for(bob).post(url(discussion, "/title"), {"title": "x" * 201})
    assert too_long.status_code == 400
    assert too_long.context["error"].message == "A title needs 1 to 200 characters."
    assert client_for(bob).post(url(discussion, "/title"), {"title": "Spelling"}).status_code == 302
    assert client_for(alice).post(url(discussion, "/title"), {"title": "Spelling fix"}).status_code == 302
    html = Client().get(url(discussion)).content.decode()
    assert "changed the title from <del>Spelling</del> to <ins>Spelling fix</ins>" in html
    assert '<span id="discussion-title">Spelling fix</span>' in html


def test_close_with_a_comment_and_reopen(repo, alice, bob):
    discussion = discussion_create(repo=repo, user=bob, title="Q", description="", pull_request=False)
    client = client_for(bob)
    assert client.post(url(discussion, "/status"), {"status": "closed", "comment": "Solved."}).status_code == 302
    assert client_for(make_user("carol")).post(url(discussion, "/status"), {"status": "open"}).status_code == 403
    closed_page = client.get(url(discussion)).content.decode()
    assert 'name="status" value="open" id="reopen-button">Reopen</button>' in closed_page
    assert client_for(alice).post(url(discussion, "/status"), {"status": "open", "comment": ""}).status_code == 302
    discussion.refresh_from_db()
    assert discussion.status == "open"
    items = client.get(url(discussion)).context["items"]
    assert [(item.event.type, item.status_action) for item in items] == [
        ("comment", ""), ("status-change", "closed this"), ("status-change", "reopened this"),
    ]  # fmt: skip
