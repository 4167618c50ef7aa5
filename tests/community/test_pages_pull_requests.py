"""Pull requests in the browser: merging (fast-forward, merge commit, conflicts, drafts), reviews,
the files-changed page, and the pull requests that the upload and edit pages open."""

import json

import pytest
from django.test import Client

from community.hf.discussions import event_json
from community.models import Discussion, DiscussionEvent
from community.services.discussions import (
    comment_add,
    discussion_change_status,
    discussion_create,
    pull_request_commit,
    review_submit,
)
from registry.models import GitCommit
from registry.selectors.diffs import DiffLineKind
from registry.selectors.pages import file_read
from registry.services.commits import AddFile, commit_create
from registry.services.repos import repo_update_settings
from registry.storage import stage_bytes
from registry.trees import tree_lookup
from tests.community.helpers import client_for, head, propose, url
from tests.frontend.builders import commit_files, fast_passwords, make_repo  # noqa: F401
from tests.support.factories import make_org, make_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_passwords")]


def text_at(commit: GitCommit, path: str) -> str:
    return file_read(file=tree_lookup(commit.tree_oid, path), limit=10**6).decode()


def push(pr: Discussion, user, files: dict[str, bytes], summary: str = "More") -> GitCommit:
    operations = [AddFile(path=path, staged=stage_bytes(data)) for path, data in files.items()]
    return pull_request_commit(discussion=pr, user=user, operations=operations, summary=summary)


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


def test_merged_pull_request_keeps_its_diff_when_its_commits_were_not_recorded(repo, alice, bob):
    """A commit written straight onto ``refs/pr/N`` (as the demo content once did) leaves no commit
    event; after a fast-forward merge the page still shows what was merged, from the target's head
    the merge recorded."""
    pr = discussion_create(repo=repo, user=bob, title="Grow base", description="", pull_request=True)
    before = head(repo)
    commit_create(
        repo=repo, user=bob, ref="refs/pr/1", summary="Grow",
        operations=[AddFile(path="base.txt", staged=stage_bytes(b"one\ntwo\nthree\nfour\n"))],
    )  # fmt: skip
    discussion_change_status(discussion=pr, user=bob, status="open")
    client_for(alice).post(url(pr, "/merge"))
    merged = DiscussionEvent.objects.filter(discussion=pr, type="status-change").last()
    assert merged.data == {"status": "merged", "target_before": before.oid}
    page = client_for(alice).get(url(pr)).content.decode()
    assert 'id="tab-files">Files changed <span class="tab-count">1</span></a>' in page
    assert "merged <code>refs/pr/1</code> into <code>main</code>" in page
    assert "wants to merge" not in page
    files = client_for(alice).get(url(pr, "/files"))
    assert [change.path for change in files.context["changes"].changes] == ["base.txt"]
    assert (files.context["additions"], files.context["deletions"]) == (1, 0)


def test_participants_are_listed_by_name_in_order_of_arrival(repo, alice, bob):
    carol = make_user("carol")
    carol.fullname = "Carol Okafor"
    carol.save(update_fields=["fullname"])
    pr = propose(repo, bob, {"new.txt": b"new\n"}, summary="Add new", description="Please look")
    comment_add(discussion=pr, user=carol, content="Fine by me.")
    comment_add(discussion=pr, user=bob, content="Thanks.")
    comment_add(discussion=pr, user=alice, content="Merging.")
    html = Client().get(url(pr)).content.decode()
    assert (
        '<h3 id="participants-title" class="sidebar-title">Participants <span class="muted count">3</span></h3>\n'
        '    <ul class="plain participants" id="participants"><li><a href="/bob">bob</a></li>'
        '<li><a href="/carol">carol</a> <span class="muted">Carol Okafor</span></li>'
        '<li><a href="/alice">alice</a></li></ul>'
    ) in html


def test_closed_pull_request_no_longer_wants_to_merge(repo, bob):
    pr = propose(repo, bob, {"new.txt": b"new\n"}, summary="Add new")
    discussion_change_status(discussion=pr, user=bob, status="closed")
    html = Client().get(url(pr)).content.decode()
    assert "proposed to merge <code>refs/pr/1</code> into <code>main</code>" in html
    assert "wants to merge" not in html


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
    lines = [(line.kind, line.old_number, line.new_number, line.text, line.notes) for line in diffs["base.txt"].lines]
    assert lines == [
        (DiffLineKind.HUNK, None, None, "@@ -1,3 +1,3 @@", ()),
        (DiffLineKind.CONTEXT, 1, 1, "one", ()),
        (DiffLineKind.DELETED, 2, None, "two", ()),
        (DiffLineKind.ADDED, None, 2, "2", ()),
        (DiffLineKind.CONTEXT, 3, 3, "three", ()),
    ]
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
    # and side, done again by the conflict check), the pull request's leaderboard entries, the
    # checks of its head and the target branch's rule
    with django_assert_num_queries(22):
        assert client.get(url(pr)).status_code == 200
    for number in range(6):
        comment_add(discussion=pr, user=bob, content=f"Comment {number}")
        discussion_change_status(discussion=pr, user=bob, status="closed" if number % 2 == 0 else "open")
    review_submit(discussion=pr, user=alice, state="approved", comment="LGTM")
    client.get(url(pr))
    with django_assert_num_queries(22):
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
    assert message.startswith("The branch was updated since you opened this page. Please refresh and try again.")
    assert f"A commit has happened since {stale[:7]}" in message
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


def test_review_requests_stay_in_the_timeline_until_each_reviewer_reviews(repo, alice, bob):
    writer = make_user("writer")
    make_user("reader")
    org = make_org("acme", admin=alice, members={"writer": "write", "bob": "read", "reader": "read"})
    shared = make_repo(alice, "shared", namespace=org.namespace)
    pr = propose(shared, bob, {"x.txt": b"x"}, summary="Add x")
    base = f"/acme/shared/discussions/{pr.num}"
    refused = client_for(bob).post(f"{base}/request-review", {"reviewers": "writer reader"})
    assert refused.status_code == 400
    assert "reader cannot review" in refused.context["error"].message
    assert not DiscussionEvent.objects.filter(type="review-request").exists()

    assert client_for(bob).post(f"{base}/request-review", {"reviewers": "@writer, alice writer"}).status_code == 302
    request_event = DiscussionEvent.objects.get(type="review-request")
    assert request_event.data["reviewers"] == ["writer", "alice"]
    page = client_for(bob).get(base)
    assert page.context["reviews"].awaited == ("writer", "alice")
    html = page.content.decode()
    assert 'id="reviews-awaited">Awaiting review from <a href="/writer">writer</a>, <a href="/alice">alice</a>' in html
    assert "asked for a review from" in html

    client_for(writer).post(f"{base}/review", {"review": "approved"})
    assert client_for(bob).get(base).context["reviews"].awaited == ("alice",)
    client_for(alice).post(f"{base}/review", {"review": "changes_requested", "comment": "Not yet."})
    assert client_for(bob).get(base).context["reviews"].awaited == ()
    client_for(bob).post(f"{base}/request-review", {"reviewers": "alice"})  # asked again after her review
    assert client_for(bob).get(base).context["reviews"].awaited == ("alice",)
    # The HF API lists the request with the reviewers' names (no internal ids).
    assert event_json(request_event)["data"] == {"reviewers": ["writer", "alice"]}
