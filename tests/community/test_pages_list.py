"""The Community tab's list: discussions and pull requests newest first, filtered, counted and
paged, with their review states; the open count on the tab and on listing cards."""

import pytest
from django.test import Client

from community.selectors import PAGE_SIZE
from community.services.discussions import (
    comment_add,
    discussion_change_status,
    discussion_create,
    pull_request_merge,
    review_submit,
)
from registry.choices import RepoType
from tests.community.helpers import client_for, propose
from tests.frontend.builders import fast_passwords, make_repo  # noqa: F401
from tests.support.factories import make_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_passwords")]


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


def test_community_lists_every_status_by_default_newest_first_with_counts_per_status(busy):
    response = Client().get("/alice/tiny/discussions")
    assert response.status_code == 200
    assert listed(response) == [5, 4, 3, 2, 1]  # the merged pull request #5 is in sight
    counts = response.context["listing"].counts
    assert (counts.all, counts.discussions, counts.pull_requests, counts.open, counts.closed, counts.open_total) == (
        5, 2, 3, 3, 2, 3,
    )  # fmt: skip
    rows = {row.discussion.num: row for row in response.context["listing"].page.object_list}
    assert rows[3].review.state == "changes_requested"
    assert rows[4].review.state == ""
    assert rows[1].review is None
    assert rows[1].discussion.comment_count == 2
    html = response.content.decode()
    assert '<span class="badge review-changes_requested">Changes requested</span>' in html
    assert (
        '<a href="?status=open">Open <span class="muted" id="count-open">3</span></a>\n'
        '    <a href="?status=closed">Closed or merged <span class="muted" id="count-closed">2</span></a>'
    ) in html
    assert '<a href="" aria-current="page">Any status <span class="muted" id="count-any-status">5</span></a>' in html
    assert '<span class="badge state-draft">Draft</span>' in html
    assert '<span class="badge state-merged">Merged</span>' in html
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
        ("?status=open", [4, 3, 1]),
        ("?type=pull_request", [5, 4, 3]),
        ("?type=pull_request&status=open", [4, 3]),
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
    assert '<p class="empty" id="discussions">No discussions or pull requests yet.</p>' in anonymous
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
