"""The Community tab: listing and filtering discussions and pull requests, taking part in them
(comments, edits, hiding, renaming, closing), reviewing and merging pull requests in the browser,
and the pull requests that the upload and edit pages open."""

import json

import pytest
from django.test import Client

from hub.models import Discussion, DiscussionEvent
from hub.services.discussions import (
    comment_add,
    discussion_change_status,
    discussion_create,
    pull_request_commit,
    pull_request_merge,
    pull_request_propose,
    review_submit,
)
from registry.choices import RepoType
from registry.hf.discussions import event_json
from registry.models import GitCommit
from registry.selectors.community import PAGE_SIZE
from registry.selectors.diffs import DiffLine, DiffLineKind
from registry.selectors.pages import file_read
from registry.services.commits import AddFile
from registry.services.refs import branch_create
from registry.services.repos import repo_update_settings
from registry.storage import stage_bytes
from registry.trees import tree_lookup
from tests.frontend.builders import commit_files, fast_passwords, make_repo  # noqa: F401
from tests.support.factories import make_org, make_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_passwords")]


@pytest.fixture
def alice():
    return make_user("alice")


@pytest.fixture
def bob():
    return make_user("bob")


@pytest.fixture
def repo(alice):
    repo = make_repo(alice, "tiny")
    commit_files(repo, alice, {"base.txt": b"one\ntwo\nthree\n"}, summary="Base")
    return repo


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def head(repo, ref: str = "refs/heads/main") -> GitCommit:
    return GitCommit.objects.get(repo=repo, oid=repo.refs.get(name=ref).target_oid)


def text_at(commit: GitCommit, path: str) -> str:
    return file_read(file=tree_lookup(commit.tree_oid, path), limit=10**6).decode()


def propose(repo, user, files: dict[str, bytes], summary: str = "Propose", description: str = "") -> Discussion:
    operations = [AddFile(path=path, staged=stage_bytes(data)) for path, data in files.items()]
    return pull_request_propose(
        repo=repo, user=user, branch="main", operations=operations, summary=summary, description=description
    )


def push(pr: Discussion, user, files: dict[str, bytes], summary: str = "More") -> GitCommit:
    operations = [AddFile(path=path, staged=stage_bytes(data)) for path, data in files.items()]
    return pull_request_commit(discussion=pr, user=user, operations=operations, summary=summary)


def url(pr_or_num, suffix: str = "") -> str:
    num = pr_or_num if isinstance(pr_or_num, int) else pr_or_num.num
    return f"/alice/tiny/discussions/{num}{suffix}"


# ------------------------------------------------------------------------------------- listing


@pytest.fixture
def busy(repo, alice, bob):
    """#1 open discussion by bob, #2 closed discussion by alice, #3 open pull request by bob with
    changes requested, #4 draft pull request by alice, #5 merged pull request by bob (approved)."""
    carol = make_user("carol")
    first = discussion_create(repo=repo, user=bob, title="Question", description="How?", pull_request=False)
    comment_add(discussion=first, user=alice, content="Like this.")
    closed = discussion_create(repo=repo, user=alice, title="Old idea", description="", pull_request=False)
    discussion_change_status(discussion=closed, user=alice, status="closed")
    changes = propose(repo, bob, {"b.txt": b"b\n"}, summary="Add b")
    review_submit(discussion=changes, user=alice, state="changes_requested", comment="Rename it.")
    discussion_create(repo=repo, user=alice, title="Draft work", description="", pull_request=True)
    merged = propose(repo, bob, {"c.txt": b"c\n"}, summary="Add c")
    review_submit(discussion=merged, user=alice, state="approved")
    pull_request_merge(discussion=merged, user=alice)
    return {"carol": carol}


def listed(response) -> list[int]:
    return [row.discussion.num for row in response.context["listing"].page.object_list]


def test_community_lists_open_items_newest_first_with_counts_and_review_states(busy):
    response = Client().get("/alice/tiny/discussions")
    assert response.status_code == 200
    assert listed(response) == [4, 3, 1]
    counts = response.context["listing"].counts
    assert (counts.all, counts.discussions, counts.pull_requests, counts.open, counts.closed, counts.open_total) == (
        3, 1, 2, 3, 2, 3,
    )  # fmt: skip
    rows = {row.discussion.num: row for row in response.context["listing"].page.object_list}
    assert rows[3].review.state == "changes_requested"
    assert rows[4].review.state == ""
    assert rows[1].review is None
    assert rows[1].discussion.comment_count == 2
    html = response.content.decode()
    assert '<span class="badge review-changes_requested">Changes requested</span>' in html
    assert '<span class="muted" id="count-closed">2</span>' in html
    assert '<span class="badge state-draft">Draft</span>' in html
    assert (
        'Community <span class="tab-count"><span class="visually-hidden">(</span>3'
        '<span class="visually-hidden"> open)</span></span>'
    ) in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?status=closed", [5, 2]),
        ("?status=all", [5, 4, 3, 2, 1]),
        ("?type=discussion&status=all", [2, 1]),
        ("?type=pull_request", [4, 3]),
        ("?type=pull_request&status=closed", [5]),
        ("?status=all&author=BOB", [5, 3, 1]),
        ("?type=pull_request&status=all&author=alice", [4]),
        ("?author=nobody", []),
    ],
)
def test_community_filters(busy, query, expected):
    response = Client().get("/alice/tiny/discussions" + query)
    assert response.status_code == 200
    assert listed(response) == expected
    assert response.context["listing"].page.paginator.count == len(expected)


def test_merged_pull_request_shows_its_approval_in_the_list(busy):
    response = Client().get("/alice/tiny/discussions?status=closed")
    rows = {row.discussion.num: row for row in response.context["listing"].page.object_list}
    assert (rows[5].review.state, rows[5].review.approvals) == ("approved", 1)
    assert '<span class="badge review-approved">Approved</span>' in response.content.decode()


def test_unknown_filters_are_refused(repo):
    assert Client().get("/alice/tiny/discussions?type=issue").status_code == 400
    assert Client().get("/alice/tiny/discussions?status=pending").status_code == 400


def test_community_paginates(repo, alice):
    for number in range(PAGE_SIZE + 1):
        discussion_create(repo=repo, user=alice, title=f"Topic {number}", description="", pull_request=False)
    first = Client().get("/alice/tiny/discussions")
    assert listed(first) == list(range(PAGE_SIZE + 1, 1, -1))
    assert '<a href="?p=2" rel="next">Older →</a>' in first.content.decode()
    second = Client().get("/alice/tiny/discussions?p=2")
    assert listed(second) == [1]
    assert '<a href="?p=1" rel="prev">← Newer</a>' in second.content.decode()
    assert listed(Client().get("/alice/tiny/discussions?p=99")) == [1]  # past the end: the last page


def test_empty_community_says_so_and_offers_to_start(repo, bob):
    anonymous = Client().get("/alice/tiny/discussions").content.decode()
    assert '<p class="empty" id="discussions">No open discussions or pull requests yet.</p>' in anonymous
    assert 'href="/login?next=/alice/tiny/discussions">Log in</a> to start a discussion' in anonymous
    html = client_for(bob).get("/alice/tiny/discussions").content.decode()
    assert '<a class="button button-small" href="/alice/tiny/discussions/new">New discussion</a>' in html
    assert 'href="/alice/tiny/discussions/new?type=pull_request">New pull request</a>' in html
    assert '<span class="tab-count">' not in html  # nothing open: no count on the tab


def test_listing_query_count_does_not_grow(busy, repo, alice, bob, django_assert_num_queries):
    # repository, counts aggregate, rows with comment counts, reviews of the page's pull requests
    with django_assert_num_queries(4):
        assert Client().get("/alice/tiny/discussions?status=all").status_code == 200
    for number in range(10):
        pr = propose(repo, bob, {f"f{number}.txt": b"x"}, summary=f"Change {number}", description="Please")
        review_submit(discussion=pr, user=alice, state="approved", comment="Fine")
        comment_add(discussion=pr, user=bob, content="Thanks")
    with django_assert_num_queries(4):
        response = Client().get("/alice/tiny/discussions?status=all")
    assert len(listed(response)) == 15


def test_repository_pages_count_open_discussions_on_the_tab(busy):
    html = Client().get("/alice/tiny").content.decode()
    assert '<a href="/alice/tiny/discussions" id="tab-community">Community <span class="tab-count">' in html


def test_model_listing_shows_open_discussions_on_cards(busy):
    html = Client().get("/models").content.decode()
    assert '<a href="/alice/tiny/discussions" class="repo-card-community">3 open discussions</a>' in html


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


# ----------------------------------------------------------------------------- pull requests


def test_only_writers_see_and_use_the_merge_button(repo, alice, bob):
    pr = propose(repo, bob, {"new.txt": b"new\n"}, summary="Add new")
    author_view = client_for(bob).get(url(pr)).content.decode()
    assert 'id="merge-button"' not in author_view
    assert "Only people with write access to alice/tiny can merge." in author_view
    assert client_for(bob).post(url(pr, "/merge")).status_code == 403
    pr.refresh_from_db()
    assert pr.status == "open"
    owner_view = client_for(alice).get(url(pr)).content.decode()
    assert '<button type="submit" class="button" id="merge-button">Merge pull request</button>' in owner_view


def test_org_writers_merge_and_readers_do_not(alice, bob):
    reader, writer = make_user("reader"), make_user("writer")
    org = make_org("acme", admin=alice, members={"reader": "read", "writer": "write"})
    shared = make_repo(alice, "shared", namespace=org.namespace)
    pr = propose(shared, bob, {"x.txt": b"x"}, summary="Add x")
    assert client_for(reader).post(f"/acme/shared/discussions/{pr.num}/merge").status_code == 403
    assert client_for(writer).post(f"/acme/shared/discussions/{pr.num}/merge").status_code == 302
    pr.refresh_from_db()
    assert pr.status == "merged"


def test_merge_fast_forward_from_the_page(repo, alice, bob):
    pr = propose(repo, bob, {"new.txt": b"new\n"}, summary="Add new")
    pr_head = head(repo, "refs/pr/1")
    client = client_for(alice)
    response = client.post(url(pr, "/merge"))
    assert (response.status_code, response["Location"]) == (302, "/alice/tiny/discussions/1")
    assert head(repo).oid == pr_head.oid
    page = client.get(url(pr))
    html = page.content.decode()
    assert "Pull request #1 merged into main by fast-forward." in html
    merged = f'<a href="/alice/tiny/commit/{pr_head.oid}"><code>{pr_head.oid[:7]}</code></a>'
    assert f"Merged into <code>main</code> as {merged}." in html
    assert [item.status_action for item in page.context["items"] if item.status_action] == ["merged this pull request"]
    assert 'id="close-button"' not in html
    assert 'id="review-submit"' not in html
    # Files changed still shows what was merged.
    files = client_for(alice).get(url(pr, "/files")).context
    assert [change.path for change in files["changes"].changes] == ["new.txt"]


def test_merge_with_a_merge_commit_when_main_moved(repo, alice, bob):
    pr = propose(repo, bob, {"new.txt": b"new\n"}, summary="Add new")
    commit_files(repo, alice, {"other.txt": b"other\n"}, summary="Meanwhile")
    before = head(repo)
    files = client_for(alice).get(url(pr, "/files")).context
    assert [change.path for change in files["changes"].changes] == ["new.txt"]  # main's own change is not shown
    assert files["changes"].base.oid == before.parents[0]
    response = client_for(alice).post(url(pr, "/merge"), follow=True)
    merge = head(repo)
    assert merge.parents == [before.oid, head(repo, "refs/pr/1").oid]
    assert merge.title == "Merge pull request #1: Add new"
    assert (text_at(merge, "new.txt"), text_at(merge, "other.txt")) == ("new\n", "other\n")
    assert f"Pull request #1 merged into main with the merge commit {merge.oid[:7]}." in response.content.decode()
    merged_files = client_for(alice).get(url(pr, "/files")).context
    assert [change.path for change in merged_files["changes"].changes] == ["new.txt"]


def test_conflicts_are_listed_and_block_the_merge(repo, alice, bob):
    pr = propose(repo, bob, {"base.txt": b"pr side\n", "fine.txt": b"fine\n"}, summary="Rewrite base")
    commit_files(repo, alice, {"base.txt": b"main side\n"}, summary="Main rewrites base")
    page = client_for(alice).get(url(pr))
    assert page.context["changes"].conflicts == ["base.txt"]
    html = page.content.decode()
    assert '<ul class="changed-files"><li><code>base.txt</code></li></ul>' in html
    assert 'id="merge-button" disabled aria-describedby="merge-blocker">Merge pull request</button>' in html
    assert '<p class="muted" id="merge-blocker">This pull request conflicts with main on 1 file.</p>' in html
    refused = client_for(alice).post(url(pr, "/merge"))
    assert refused.status_code == 409
    assert refused.context["error"].message == "The pull request conflicts with refs/heads/main on: base.txt"
    assert 'id="merge-error">The pull request conflicts with refs/heads/main on: base.txt</p>' in (
        refused.content.decode()
    )
    assert text_at(head(repo), "base.txt") == "main side\n"
    files = client_for(alice).get(url(pr, "/files")).content.decode()
    assert '<div class="card callout conflicts" id="conflicts">' in files


def test_draft_cannot_merge_until_published(repo, alice, bob):
    pr = discussion_create(repo=repo, user=bob, title="Draft", description="", pull_request=True)
    push(pr, bob, {"d.txt": b"d\n"})
    html = client_for(alice).get(url(pr)).content.decode()
    assert '<p class="muted" id="merge-blocker">This pull request is a draft: publish it to allow merging.</p>' in html
    assert client_for(alice).post(url(pr, "/merge")).status_code == 409
    publish = client_for(bob).get(url(pr)).content.decode()
    assert 'id="publish-button">Publish: ready for review</button>' in publish
    assert client_for(bob).post(url(pr, "/status"), {"status": "open"}).status_code == 302
    page = client_for(alice).get(url(pr))
    assert page.context["merge_blocker"] == ""
    assert [i.status_action for i in page.context["items"] if i.status_action] == [
        "marked this pull request as ready for review"
    ]


def test_closed_pull_request_cannot_merge(repo, alice, bob):
    pr = propose(repo, bob, {"n.txt": b"n"})
    discussion_change_status(discussion=pr, user=bob, status="closed")
    page = client_for(alice).get(url(pr))
    assert page.context["merge_blocker"] == "This pull request is closed: reopen it to merge."
    assert 'id="review-submit"' not in page.content.decode()


def test_reviews_are_comments_with_a_verdict(repo, alice, bob):
    writer = make_user("writer")
    org = make_org("acme", admin=alice, members={"writer": "write", "bob": "read"})
    shared = make_repo(alice, "shared", namespace=org.namespace)
    pr = propose(shared, bob, {"x.txt": b"x"}, summary="Add x")
    base = f"/acme/shared/discussions/{pr.num}"
    assert client_for(bob).post(f"{base}/review", {"review": "approved"}).status_code == 403  # not a writer
    missing = client_for(writer).post(f"{base}/review", {"review": "changes_requested", "comment": " "})
    assert missing.status_code == 400
    assert missing.context["error"].message == "A comment cannot be empty."
    assert client_for(writer).post(f"{base}/review", {"review": "maybe"}).status_code == 400
    requested = client_for(writer).post(f"{base}/review", {"review": "changes_requested", "comment": "Rename *x*."})
    assert requested.status_code == 302
    assert client_for(alice).post(f"{base}/review", {"review": "approved", "comment": ""}).status_code == 302
    summary = client_for(bob).get(base).context["reviews"]
    assert [(r.reviewer.username, r.state, r.stale) for r in summary.reviews] == [
        ("writer", "changes_requested", False), ("alice", "approved", False),
    ]  # fmt: skip
    assert summary.state == "changes_requested"
    push(pr, bob, {"y.txt": b"y"}, summary="Rename")
    client_for(writer).post(f"{base}/review", {"review": "approved"})
    page = client_for(bob).get(base)
    summary = page.context["reviews"]
    assert [(r.reviewer.username, r.state, r.stale) for r in summary.reviews] == [
        ("alice", "approved", True), ("writer", "approved", False),
    ]  # fmt: skip
    assert (summary.state, summary.approvals) == ("approved", 2)
    html = page.content.decode()
    assert '<span class="muted">before the latest commit</span>' in html
    assert "<p>Rename <em>x</em>.</p>" in html
    # The HF API sees reviews as plain comments: same keys as any comment, no verdict.
    review = DiscussionEvent.objects.filter(data__review="changes_requested").get()
    plain = comment_add(discussion=pr, user=bob, content="ok")
    assert event_json(review)["data"].keys() == event_json(plain)["data"].keys()
    assert event_json(review)["data"]["latest"]["raw"] == "Rename *x*."
    assert "review" not in json.dumps(event_json(review))


def test_authors_cannot_review_their_own_pull_request(repo, alice):
    pr = propose(repo, alice, {"a.txt": b"a"})
    page = client_for(alice).get(url(pr))
    assert page.context["can_review"] is False
    response = client_for(alice).post(url(pr, "/review"), {"review": "approved"})
    assert response.status_code == 403
    assert response.context["error"].message == "Authors cannot review their own pull request."


def test_files_changed_shows_line_diffs_with_edit_links_for_who_may_push(repo, alice, bob):
    pr = propose(repo, bob, {"base.txt": b"one\n2\nthree\n", "w.bin": b"\x00\x01"}, summary="Tweak")
    response = client_for(bob).get(url(pr, "/files"))
    assert response.status_code == 200
    diffs = {diff.change.path: diff for diff in response.context["diffs"]}
    assert diffs["base.txt"].lines == (
        DiffLine(DiffLineKind.HUNK, None, None, "@@ -1,3 +1,3 @@"),
        DiffLine(DiffLineKind.CONTEXT, 1, 1, "one"),
        DiffLine(DiffLineKind.DELETED, 2, None, "two"),
        DiffLine(DiffLineKind.ADDED, None, 2, "2"),
        DiffLine(DiffLineKind.CONTEXT, 3, 3, "three"),
    )
    assert diffs["w.bin"].skipped == "binary"
    html = response.content.decode()
    assert '<h3 class="diff-summary" id="diff-summary">2 changed files' in html
    edit_link = 'href="/alice/tiny/edit/refs/pr/1/base.txt" aria-label="Edit base.txt">Edit</a>'
    assert edit_link in html
    assert "/edit/refs/pr/1/w.bin" not in html  # binary: upload instead
    assert edit_link not in client_for(make_user("carol")).get(url(pr, "/files")).content.decode()
    assert edit_link not in Client().get(url(pr, "/files")).content.decode()


def test_files_changed_of_gated_repositories_is_for_members(repo, alice, bob):
    pr = propose(repo, alice, {"n.txt": b"n"})
    repo_update_settings(repo=repo, gated="manual")
    assert client_for(bob).get(url(pr, "/files")).status_code == 403
    page = client_for(bob).get(url(pr))
    assert page.status_code == 200
    assert page.context["changes"] is None
    assert client_for(alice).get(url(pr, "/files")).status_code == 200


def test_discussions_have_no_files_page(repo, bob):
    discussion = discussion_create(repo=repo, user=bob, title="Q", description="", pull_request=False)
    assert Client().get(url(discussion, "/files")).status_code == 404
    assert Client().get("/alice/tiny/discussions/9").status_code == 404


def test_pull_request_page_query_count_does_not_grow_with_its_timeline(repo, alice, bob, django_assert_num_queries):
    pr = propose(repo, bob, {"n.txt": b"n\n"}, description="Please")
    client = client_for(alice)
    client.get(url(pr))  # warm the tree and markdown caches
    # session, user, repository, discussion, timeline, like state, tab count, and 12 for the refs,
    # head and target commits and the merge-base walks (one query per 200 generations of history
    # and side, done again by the conflict check)
    with django_assert_num_queries(19):
        assert client.get(url(pr)).status_code == 200
    for number in range(6):
        comment_add(discussion=pr, user=bob, content=f"Comment {number}")
        discussion_change_status(discussion=pr, user=bob, status="closed" if number % 2 == 0 else "open")
    review_submit(discussion=pr, user=alice, state="approved", comment="LGTM")
    client.get(url(pr))
    with django_assert_num_queries(19):
        assert client.get(url(pr)).status_code == 200


# ---------------------------------------------------------------- proposing from upload and edit


def test_edit_page_opens_a_pull_request_for_people_who_cannot_write(repo, alice, bob):
    client = client_for(bob)
    page = client.get("/alice/tiny/edit/main/base.txt")
    html = page.content.decode()
    assert page.status_code == 200
    assert "You cannot write to alice/tiny directly: your change will open a pull request against" in html
    assert 'name="target"' not in html  # no choice to make
    assert 'id="edit-submit">Open a pull request</button>' in html
    before = head(repo).oid
    data = {"content": "one\ntwo\nthree\nfour\n", "summary": "Add a line", "description": "Why not",
            "parent": before, "action": "commit", "target": "commit"}  # fmt: skip
    response = client.post("/alice/tiny/edit/main/base.txt", data)
    assert (response.status_code, response["Location"]) == (302, "/alice/tiny/discussions/1")
    assert head(repo).oid == before  # main unchanged: "commit" is not bob's to choose
    pr = Discussion.objects.get()
    assert (pr.title, pr.status, pr.author, pr.is_pull_request) == ("Add a line", "open", bob, True)
    assert [event.type for event in pr.events.all()] == ["comment", "commit"]
    assert text_at(head(repo, "refs/pr/1"), "base.txt") == "one\ntwo\nthree\nfour\n"


def test_writers_choose_between_committing_and_opening_a_pull_request(repo, alice):
    client = client_for(alice)
    html = client.get("/alice/tiny/edit/main/base.txt").content.decode()
    assert '<input type="radio" name="target" value="commit" checked> Commit directly to <code>main</code>' in html
    assert "Open a pull request instead of committing to <code>main</code>" in html
    data = {"content": "proposed\n", "summary": "", "parent": head(repo).oid, "action": "commit", "target": "pr"}
    response = client.post("/alice/tiny/edit/main/base.txt", data)
    assert (response.status_code, response["Location"]) == (302, "/alice/tiny/discussions/1")
    assert Discussion.objects.get().title == "Update base.txt"
    assert text_at(head(repo), "base.txt") == "one\ntwo\nthree\n"


def test_stale_edit_opens_no_pull_request(repo, alice, bob):
    stale = head(repo).oid
    commit_files(repo, alice, {"other.txt": b"meanwhile"})
    data = {"content": "mine", "summary": "", "parent": stale, "action": "commit"}
    response = client_for(bob).post("/alice/tiny/edit/main/base.txt", data)
    assert response.status_code == 400
    (message,) = response.context["form"].non_field_errors()
    assert message.startswith(f"A commit has happened since {stale[:7]}")
    assert (Discussion.objects.count(), repo.refs.filter(name__startswith="refs/pr/").count()) == (0, 0)


def test_editing_on_a_pull_request_adds_a_commit_to_it(repo, alice, bob):
    pr = propose(repo, bob, {"base.txt": b"v1\n"})
    client = client_for(bob)
    page = client.get("/alice/tiny/edit/refs/pr/1/base.txt").content.decode()
    assert "Your commit goes onto pull request" in page
    assert 'id="edit-submit">Commit to pull request #1</button>' in page
    data = {"content": "v2\n", "summary": "Fix", "parent": head(repo, "refs/pr/1").oid, "action": "commit"}
    response = client.post("/alice/tiny/edit/refs/pr/1/base.txt", data)
    assert (response.status_code, response["Location"]) == (302, "/alice/tiny/discussions/1/files")
    assert text_at(head(repo, "refs/pr/1"), "base.txt") == "v2\n"
    assert [e.data["subject"] for e in pr.events.filter(type="commit")] == ["Propose", "Fix"]
    assert client_for(make_user("carol")).get("/alice/tiny/edit/refs/pr/1/base.txt").status_code == 403
    discussion_change_status(discussion=pr, user=bob, status="closed")
    closed = client.get("/alice/tiny/edit/refs/pr/1/base.txt")
    assert closed.status_code == 409
    assert closed.context["error"].message == "Pull request #1 is closed; reopen it to add commits."


def test_upload_page_proposes_for_people_who_cannot_write(repo, alice, bob):
    html = client_for(bob).get("/alice/tiny/upload/main").content.decode()
    assert 'data-commit-url="/api/models/alice/tiny/commit/main"' in html
    assert 'data-pull-request-only="true"' in html
    assert 'id="upload-submit" disabled>Open a pull request</button>' in html
    owner = client_for(alice).get("/alice/tiny/upload/main").content.decode()
    assert "data-pull-request-only" not in owner
    assert '<input type="radio" name="target" value="pr" id="target-pr"> Open a pull request instead' in owner
    propose(repo, bob, {"p.txt": b"p"})
    onto = client_for(bob).get("/alice/tiny/upload/refs/pr/1").content.decode()
    assert 'data-commit-url="/api/models/alice/tiny/commit/refs%2Fpr%2F1"' in onto
    assert 'id="upload-submit" disabled>Commit to pull request #1</button>' in onto
    assert client_for(make_user("carol")).get("/alice/tiny/upload/refs/pr/1").status_code == 403


def test_datasets_and_tutorials_have_a_community_tab_too(alice, bob):
    stories = make_repo(alice, "stories", repo_type=RepoType.DATASET)
    discussion = discussion_create(repo=stories, user=bob, title="Licence?", description="", pull_request=False)
    html = Client().get("/datasets/alice/stories/discussions").content.decode()
    assert '<a class="discussion-title" href="/datasets/alice/stories/discussions/1">Licence?</a>' in html
    page = client_for(bob).get(f"/datasets/alice/stories/discussions/{discussion.num}").content.decode()
    assert '<form method="post" action="/datasets/alice/stories/discussions/1/comment" class="card">' in page
    make_repo(alice, "guide", repo_type=RepoType.TUTORIAL)
    tutorial = Client().get("/tutorials/alice/guide/discussions")
    assert (tutorial.status_code, tutorial.context["listing"].counts.all) == (200, 0)
