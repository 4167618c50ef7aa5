"""The branch rules page of a repository's settings: admins list, set and remove rules; everyone
else is refused (404 where the repository is hidden). And reviews' line comments, shown below their
lines in a pull request's files view."""

import pytest
from pytest_django.asserts import assertInHTML

from community.models import BranchRule
from community.services.discussions import review_submit
from registry.services.repos import repo_update_settings
from tests.community.helpers import client_for, propose, url
from tests.support.factories import make_user
from tests.support.html import without_csrf

pytestmark = pytest.mark.django_db

PAGE = "/alice/tiny/settings/branch-rules"


def test_admins_set_list_and_remove_rules(alice, repo):
    client = client_for(alice)
    empty = client.get(PAGE)
    assert empty.status_code == 200
    assert 'id="no-branch-rules"' in empty.content.decode()
    form = {
        "branch": "main", "require_pull_request": "on", "required_approvals": "2",
        "required_checks": "card-lint, ci\nci", "code_owners": "on", "bypass": "alice",
    }  # fmt: skip
    saved = client.post(PAGE, form, follow=True)
    assert "main is protected by its rule." in saved.content.decode()
    rule = BranchRule.objects.get()
    assert (rule.branch, rule.require_pull_request, rule.required_approvals, rule.required_checks) == (
        "main", True, 2, ["card-lint", "ci"],
    )  # fmt: skip
    assert (rule.code_owners, rule.dismiss_stale_approvals, rule.bypass) == (True, False, ["alice"])
    page = client.get(PAGE).content.decode()
    assert '<tr data-branch="main">' in page
    assert "<code>card-lint</code>, <code>ci</code>" in page
    assert 'id="tab-branch-rules"' in page
    assertInHTML(
        """<form method="post" action="/alice/tiny/settings/branch-rules" class="form-inline">
        <input type="hidden" name="action" value="delete"><input type="hidden" name="branch" value="main">
        <button type="submit" class="button button-small" aria-label="Remove the rule of main">Remove</button>
        </form>""",
        without_csrf(page),
    )

    bad = client.post(PAGE, {**form, "required_approvals": "many"}, follow=True)
    assert "Required approvals is a whole number." in bad.content.decode()
    too_many = client.post(PAGE, {**form, "required_approvals": "99"}, follow=True)
    assert "required_approvals must be between 0 and 20." in too_many.content.decode()
    assert BranchRule.objects.get().required_approvals == 2

    removed = client.post(PAGE, {"action": "delete", "branch": "main"}, follow=True)
    assert "The rule of main is removed." in removed.content.decode()
    assert BranchRule.objects.count() == 0
    gone = client.post(PAGE, {"action": "delete", "branch": "main"}, follow=True)
    assert "Branch main has no rule." in gone.content.decode()


def test_others_are_refused(alice, bob, repo):
    assert client_for(bob).get(PAGE).status_code == 403
    assert client_for(bob).post(PAGE, {"branch": "main"}).status_code == 403
    assert BranchRule.objects.count() == 0
    repo_update_settings(repo=repo, private=True)
    assert client_for(make_user("eve")).get(PAGE).status_code == 404


def test_line_comments_show_below_their_lines_in_the_files_view(alice, bob, repo):
    pr = propose(repo, bob, {"base.txt": b"one\ntwo\nthree\nfour\n"}, summary="Add a line")
    review_submit(
        discussion=pr, user=alice, state="changes_requested", comment="",
        line_comments=[
            {"path": "base.txt", "line": 4, "body": "Spell it out?"},
            {"path": "base.txt", "line": 99, "body": "Outside the diff's context"},
        ],
    )  # fmt: skip
    page = client_for(alice).get(url(pr, "/files")).content.decode()
    added = page.index("four")
    note = page.index('<li class="line-comment" data-line="4"><strong>alice</strong>: Spell it out?</li>')
    assert added < note
    assert "<code>base.txt:99</code> <strong>alice</strong>: Outside the diff&#x27;s context" in page
