"""History pages: commits of a revision, and a commit with its changed files and text diffs."""

import pytest
from django.test import Client

from community.services.checks import check_report
from registry.selectors.diffs import ChangeStatus, DiffLine, DiffLineKind
from registry.views import COMMITS_PAGE_SIZE
from tests.frontend.builders import commit_files, fast_passwords, make_repo  # noqa: F401
from tests.support.factories import make_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_passwords")]


@pytest.fixture
def alice():
    return make_user("alice")


@pytest.fixture
def history(alice):
    repo = make_repo(alice, "tiny")
    first = commit_files(repo, alice, {"a.txt": b"one\ntwo\nthree\n", "old.txt": b"bye\n", "w.bin": b"\x00\x01"})
    second = commit_files(
        repo, alice,
        {"a.txt": b"one\n2\nthree\nfour\n", "docs/new.md": b"# New\n", "w.bin": b"\x00\x02"},
        delete=("old.txt",), summary="Rework <script>alert(1)</script>", description="Body line\n\nsecond",
    )  # fmt: skip
    return repo, first.commit, second.commit


def test_commits_lists_history_newest_first(history):
    repo, first, second = history
    response = Client().get("/alice/tiny/commits/main")
    assert response.status_code == 200
    assert [commit.oid for commit, _checks in response.context["commits"]] == [
        second.oid, first.oid, repo.commits.get(generation=0).oid,
    ]  # fmt: skip
    html = response.content.decode()
    assert "commit-checks" not in html
    # Checks reported on a commit show beside it.
    check_report(repo=repo, user=None, commit_oid=second.oid, name="ci", state="failure", summary="2 tests failed")
    listed = Client().get("/alice/tiny/commits/main").content.decode()
    assert '<span class="badge check-failure" title="2 tests failed">ci: failure</span>' in listed
    assert "Rework &lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)</script>" not in html
    assert f'<a href="/alice/tiny/tree/{second.oid}" class="button' in html


def test_commits_paginate(alice):
    repo = make_repo(alice, "long")
    for number in range(COMMITS_PAGE_SIZE + 1):
        commit_files(repo, alice, {"n.txt": str(number).encode()}, summary=f"step {number}")
    first_page = Client().get("/alice/long/commits/main")
    assert (len(first_page.context["commits"]), first_page.context["has_more"]) == (COMMITS_PAGE_SIZE, True)
    assert '<a href="?p=2" rel="next">Older →</a>' in first_page.content.decode()
    second_page = Client().get("/alice/long/commits/main?p=2")
    assert [c.title for c, _checks in second_page.context["commits"]] == ["step 0", "initial commit"]
    assert second_page.context["has_more"] is False
    assert Client().get("/alice/long/commits/main?p=9").status_code == 404
    assert Client().get("/alice/long/commits/main?p=x").status_code == 400


def test_commit_page_lists_changes_with_diffs(history):
    _repo, first, second = history
    response = Client().get(f"/alice/tiny/commit/{second.oid}")
    assert response.status_code == 200
    changes = [(c.path, c.status) for c in response.context["changes"]]
    assert changes == [
        ("a.txt", ChangeStatus.MODIFIED), ("docs/new.md", ChangeStatus.ADDED),
        ("old.txt", ChangeStatus.DELETED), ("w.bin", ChangeStatus.MODIFIED),
    ]  # fmt: skip
    diffs = {diff.change.path: diff for diff in response.context["diffs"]}
    assert diffs["a.txt"].lines == (
        DiffLine(DiffLineKind.HUNK, None, None, "@@ -1,3 +1,4 @@"),
        DiffLine(DiffLineKind.CONTEXT, 1, 1, "one"),
        DiffLine(DiffLineKind.DELETED, 2, None, "two"),
        DiffLine(DiffLineKind.ADDED, None, 2, "2"),
        DiffLine(DiffLineKind.CONTEXT, 3, 3, "three"),
        DiffLine(DiffLineKind.ADDED, None, 4, "four"),
    )
    assert (diffs["a.txt"].additions, diffs["a.txt"].deletions) == (2, 1)
    assert (diffs["old.txt"].additions, diffs["old.txt"].deletions) == (0, 1)
    assert diffs["w.bin"].skipped == "binary"
    assert (response.context["additions"], response.context["deletions"]) == (3, 2)
    html = response.content.decode()
    assert '<h3 class="diff-summary" id="diff-summary">4 changed files' in html
    assert '<pre class="commit-body">Body line\n\nsecond</pre>' in html
    assert f'<a href="/alice/tiny/commit/{first.oid}"><code>{first.oid[:7]}</code></a>' in html
    assert "Rework &lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_commit_page_accepts_short_ids_and_404s_unknown(history):
    _repo, _first, second = history
    assert Client().get(f"/alice/tiny/commit/{second.oid[:8]}").context["commit"].oid == second.oid
    assert Client().get("/alice/tiny/commit/" + "0" * 40).status_code == 404
    assert Client().get("/alice/tiny/commit/zzzz").status_code == 404


def test_first_commit_diffs_against_nothing(history):
    repo, _first, _second = history
    root = repo.commits.get(generation=0)
    response = Client().get(f"/alice/tiny/commit/{root.oid}")
    assert [(c.path, c.status) for c in response.context["changes"]] == [(".gitattributes", ChangeStatus.ADDED)]
    assert "none (first commit)" in response.content.decode()


def test_commit_page_query_count(history, django_assert_num_queries):
    _repo, _first, second = history
    Client().get(f"/alice/tiny/commit/{second.oid}")
    # repository, commit, parent commit, the malware scans of its files, open discussions on the
    # Community tab (trees and blobs come from the cache and storage)
    with django_assert_num_queries(5):
        assert Client().get(f"/alice/tiny/commit/{second.oid}").status_code == 200


def test_commits_page_query_count(history, django_assert_num_queries):
    # repository, ref, commit, history window, refs of the menu, open discussions on the tab, the
    # checks of the listed commits
    with django_assert_num_queries(7):
        assert Client().get("/alice/tiny/commits/main").status_code == 200
