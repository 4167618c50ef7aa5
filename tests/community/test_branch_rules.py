"""Branch rules, checks and reviews: the REST API that sets them, and what they refuse on every
face (REST, the stock client, the pages)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from huggingface_hub.errors import HfHubHTTPError
from rest_framework.test import APIClient

from community.models import BranchRule, CommitCheck, Discussion
from community.services.branch_rules import branch_rule_set
from community.services.checks import check_report
from community.services.discussions import review_submit
from hub.models import AuditEvent
from registry.models import Repo
from registry.selectors.revisions import ref_target
from tests.community.helpers import client_for, propose, url
from tests.support.factories import make_org, make_user
from tests.support.git import git_user, needs_git

pytestmark = pytest.mark.django_db

RULE_URL = "/api/v1/repos/models/alice/tiny/branch-rules/main"
NEEDS_PR = (
    "Branch main is protected by a branch rule (require_pull_request): changes reach it through a pull "
    "request; open one (create_pr) instead of committing to it."
)


def _rest(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _commit(user, revision: str = "main", **fields):
    body = {"summary": "Add x", "x.txt": SimpleUploadedFile("x.txt", b"x"), **fields}
    return _rest(user).post(f"/api/v1/repos/models/alice/tiny/commits/{revision}", body, format="multipart")


def test_rest_sets_reads_and_deletes_a_rule(alice, bob, repo):
    rule = {
        "require_pull_request": True, "required_approvals": 2, "required_checks": ["ci", "scan"],
        "code_owners": False, "dismiss_stale_approvals": True, "bypass": ["alice"],
    }  # fmt: skip
    put = _rest(alice).put(RULE_URL, rule, format="json")
    assert put.status_code == 200
    assert put.json() == {"branch": "main", **rule}
    assert _rest(bob).get(RULE_URL).json() == {"branch": "main", **rule}
    refused = _rest(bob).put(RULE_URL, rule, format="json")
    assert refused.status_code == 403
    assert _rest(alice).put(RULE_URL, {"required_approvals": 1}, format="json").json()["required_checks"] == []
    typo = _rest(alice).put(RULE_URL, {"required_aprovals": 1}, format="json")
    assert (typo.status_code, typo.json()["fields"]) == (400, {"required_aprovals": ["Unknown field."]})
    too_many = _rest(alice).put(RULE_URL, {"required_approvals": 99}, format="json")
    assert too_many.status_code == 400
    assert _rest(alice).delete(RULE_URL).status_code == 204
    assert _rest(alice).get(RULE_URL).status_code == 404
    assert BranchRule.objects.count() == 0
    # Each change is in the repository's audit log, with what the rule was before.
    audited = AuditEvent.objects.filter(action__startswith="branch_rule.").order_by("id")
    assert [(e.action, e.actor_name) for e in audited] == [("branch_rule.set", "alice")] * 2 + [
        ("branch_rule.delete", "alice")
    ]
    assert (audited[0].data["before"], audited[1].data["before"]["required_approvals"]) == (None, 2)
    area = _rest(alice).get("/api/v1/repos/models/alice/tiny/audit-log?action=branch_rule")
    assert area.json()["count"] == 3


def test_protected_branch_refuses_direct_commits_but_not_bypassers(alice, bob, repo):
    branch_rule_set(repo=repo, branch="main")
    main = ref_target(repo=repo, ref="refs/heads/main")
    refused = _commit(alice)
    assert (refused.status_code, refused.json()) == (403, {"error": NEEDS_PR, "code": "branch_protected"})
    assert ref_target(repo=repo, ref="refs/heads/main") == main
    proposed = _commit(bob, create_pr="true")
    assert (proposed.status_code, proposed.json()["pull_request"]) == (201, 1)
    branch_rule_set(repo=repo, branch="main", bypass=["Alice"])
    assert _commit(alice).status_code == 201
    # The override is in the audit log.
    [bypass] = AuditEvent.objects.filter(action="branch_rule.bypass")
    assert (bypass.actor_name, bypass.data) == ("alice", {"branch": "main", "ref_action": "commit"})


def test_edit_page_of_a_protected_branch_opens_a_pull_request(alice, repo, client):
    branch_rule_set(repo=repo, branch="main")
    client.force_login(alice)
    parent = ref_target(repo=repo, ref="refs/heads/main")
    form = client.get("/alice/tiny/edit/main/base.txt").content.decode()
    assert "You cannot write to alice/tiny directly" in form
    response = client.post(
        "/alice/tiny/edit/main/base.txt",
        {"content": "changed", "summary": "Fix", "description": "", "parent": parent, "target": "commit"},
    )
    assert (response.status_code, response["Location"]) == (302, "/alice/tiny/discussions/1")
    assert ref_target(repo=repo, ref="refs/heads/main") == parent


def test_protected_branch_cannot_be_deleted_or_rewritten(alice, repo):
    _rest(alice).post("/api/v1/repos/models/alice/tiny/branches/dev", {}, format="json")
    branch_rule_set(repo=repo, branch="dev", require_pull_request=False)
    deleted = _rest(alice).delete("/api/v1/repos/models/alice/tiny/branches/dev")
    assert deleted.status_code == 403
    assert deleted.json()["error"] == "Branch dev is protected by a branch rule: it cannot be deleted."
    assert ref_target(repo=repo, ref="refs/heads/dev") is not None
    assert _commit(alice, "dev").status_code == 201  # the rule does not require pull requests


def test_merge_needs_approvals_checks_and_no_requested_changes(alice, bob, repo):
    branch_rule_set(repo=repo, branch="main", required_approvals=1, required_checks=["ci"])
    pr = propose(repo, bob, {"new.txt": b"new\n"}, summary="Add new")
    head = ref_target(repo=repo, ref="refs/pr/1")
    rest = _rest(alice).post(f"/api/v1/repos/models/alice/tiny/discussions/{pr.num}/merge")
    refused = client_for(alice).post(url(pr, "/merge"))
    assert refused.status_code == 403
    message = (
        "Pull request #1 cannot be merged into main yet: its branch rule needs 1 approving review from people "
        "with write access (required_approvals), 0 given; the required check 'ci' to pass on "
        f"{head[:7]} (required_checks): it has not reported."
    )
    assert refused.context["error"].message == message
    assert (rest.status_code, rest.json()) == (403, {"error": message, "code": "branch_protected"})
    page = client_for(alice).get(url(pr)).content.decode()
    assert "The branch rule of main needs 1 approving review" in page
    assert 'id="merge-button" disabled' in page

    reviews = f"/api/v1/repos/models/alice/tiny/discussions/{pr.num}/reviews"
    asked = _rest(alice).post(
        reviews,
        {"state": "request_changes", "comments": [{"path": "new.txt", "line": 1, "body": "Say more"}]},
        format="json",
    )
    assert asked.status_code == 201
    assert asked.json()["comments"] == [{"path": "new.txt", "line": 1, "body": "Say more"}]
    checks = f"/api/v1/repos/models/alice/tiny/commits/{head}/checks"
    reported = _rest(alice).post(checks, {"name": "ci", "state": "pending", "summary": "running"}, format="json")
    assert (reported.status_code, reported.json()["state"]) == (201, "pending")
    refused = client_for(alice).post(url(pr, "/merge"))
    assert refused.context["error"].message == (
        "Pull request #1 cannot be merged into main yet: its branch rule needs 1 approving review from people "
        "with write access (required_approvals), 0 given; the changes alice requested: their review must "
        f"approve first; the required check 'ci' to pass on {head[:7]} (required_checks): it is pending."
    )
    page = client_for(alice).get(url(pr)).content.decode()
    assert '<span class="badge check-pending">Pending</span>' in page
    assert "running" in page
    assert '<a href="/alice/tiny/discussions/1/files"><code>new.txt:1</code></a> Say more</li>' in page

    assert _rest(alice).post(reviews, {"state": "approve", "body": "Good"}, format="json").status_code == 201
    _rest(alice).post(checks, {"name": "ci", "state": "success", "details_url": "https://ci.example/1"}, format="json")
    assert [(c.name, c.state) for c in CommitCheck.objects.all()] == [("ci", "success")]
    merged = _rest(alice).post(f"/api/v1/repos/models/alice/tiny/discussions/{pr.num}/merge")
    assert (merged.status_code, merged.json()) == (200, {"commit": head, "fast_forward": True})
    assert Discussion.objects.get().status == "merged"
    assert ref_target(repo=repo, ref="refs/heads/main") == head


def test_stale_approvals_are_dismissed_when_the_rule_says_so(alice, bob, repo):
    from tests.community.test_pages_pull_requests import push

    branch_rule_set(repo=repo, branch="main", required_approvals=1, dismiss_stale_approvals=True)
    pr = propose(repo, bob, {"new.txt": b"new\n"})
    review_submit(discussion=pr, user=alice, state="approved")
    push(pr, bob, {"more.txt": b"more\n"})
    refused = client_for(alice).post(url(pr, "/merge"))
    assert refused.context["error"].message == (
        "Pull request #1 cannot be merged into main yet: its branch rule needs 1 approving review from people "
        "with write access (required_approvals), 0 given (approvals given before the latest commit do not "
        "count)."
    )
    review_submit(discussion=pr, user=alice, state="approved")
    assert client_for(alice).post(url(pr, "/merge")).status_code == 302


def test_code_owners_must_approve_the_files_they_own(alice):
    carol, dave = make_user("carol"), make_user("dave")
    make_org("acme", admin=alice, members={"carol": "write", "dave": "write"})
    from tests.frontend.builders import commit_files, make_repo

    repo = make_repo(alice, "tiny", namespace=alice.organizations.get().namespace)
    commit_files(repo, alice, {"CODEOWNERS": b"# owners\n*.md @carol\ndocs/ @dave\n"})
    branch_rule_set(repo=repo, branch="main", require_pull_request=False, code_owners=True)
    pr = propose(repo, make_user("erin"), {"README.md": b"# Hi\n", "docs/a.txt": b"a\n", "x.bin": b"x"})
    review_submit(discussion=pr, user=carol, state="approved")
    refused = client_for(alice).post(f"/acme/tiny/discussions/{pr.num}/merge")
    assert refused.context["error"].message == (
        "Pull request #1 cannot be merged into main yet: its branch rule needs an approval from a code owner of "
        "docs/a.txt (dave) (code_owners)."
    )
    review_submit(discussion=pr, user=dave, state="approved")
    assert client_for(alice).post(f"/acme/tiny/discussions/{pr.num}/merge").status_code == 302


def test_checks_are_refused_to_readers_and_need_a_known_commit(alice, bob, repo):
    head = ref_target(repo=repo, ref="refs/heads/main")
    checks = f"/api/v1/repos/models/alice/tiny/commits/{head}/checks"
    assert _rest(bob).post(checks, {"name": "ci", "state": "success"}, format="json").status_code == 403
    bad_state = _rest(alice).post(checks, {"name": "ci", "state": "green"}, format="json")
    assert bad_state.status_code == 400
    bad_url = _rest(alice).post(
        checks, {"name": "ci", "state": "success", "details_url": "javascript:x"}, format="json"
    )
    assert (bad_url.status_code, bad_url.json()["fields"]) == (400, {"details_url": ["Invalid URL."]})
    unknown = _rest(alice).post(
        f"/api/v1/repos/models/alice/tiny/commits/{'0' * 40}/checks", {"name": "ci", "state": "success"}, format="json"
    )
    assert unknown.status_code == 404
    check_report(repo=repo, user=alice, commit_oid=head, name="scan", state="failure")
    assert [c["name"] for c in APIClient().get(checks).json()] == ["scan"]


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_stock_client_meets_the_branch_rule(hub, bob_hub):
    hub.api.create_repo("tiny")
    hub.api.upload_file(path_or_fileobj=b"base", path_in_repo="base.txt", repo_id="alice/tiny")
    repo = Repo.objects.get()
    branch_rule_set(repo=repo, branch="main", required_approvals=1, required_checks=["ci"])
    with pytest.raises(HfHubHTTPError) as refused:
        hub.api.upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id="alice/tiny")
    assert refused.value.response.status_code == 403
    assert NEEDS_PR in str(refused.value)
    hub.api.create_branch("alice/tiny", branch="dev")
    branch_rule_set(repo=repo, branch="dev", require_pull_request=False)
    with pytest.raises(HfHubHTTPError) as deleting:
        hub.api.delete_branch("alice/tiny", branch="dev")
    assert deleting.value.response.status_code == 403
    assert "Branch dev is protected by a branch rule: it cannot be deleted." in str(deleting.value)
    with pytest.raises(HfHubHTTPError) as squashing:
        hub.api.super_squash_history("alice/tiny", branch="dev")
    assert "Branch dev is protected by a branch rule: its history cannot be rewritten." in str(squashing.value)
    info = bob_hub.api.upload_file(path_or_fileobj=b"b", path_in_repo="b.txt", repo_id="alice/tiny", create_pr=True)
    with pytest.raises(HfHubHTTPError) as blocked:
        hub.api.merge_pull_request("alice/tiny", info.pr_num)
    assert blocked.value.response.status_code == 403
    assert "needs 1 approving review from people with write access (required_approvals), 0 given" in str(blocked.value)
    assert "the required check 'ci'" in str(blocked.value)
    pr = Discussion.objects.get()
    review_submit(discussion=pr, user=hub.user, state="approved")
    check_report(
        repo=repo, user=hub.user, commit_oid=ref_target(repo=repo, ref="refs/pr/1"), name="ci", state="success"
    )
    hub.api.merge_pull_request("alice/tiny", info.pr_num)
    assert hub.api.get_discussion_details("alice/tiny", info.pr_num).status == "merged"


@pytest.mark.live
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@needs_git
def test_git_push_meets_the_branch_rule(hub, tmp_path):
    hub.api.create_repo("tiny")
    hub.api.upload_file(path_or_fileobj=b"base", path_in_repo="base.txt", repo_id="alice/tiny")
    hub.api.create_branch("alice/tiny", branch="dev")
    repo = Repo.objects.get()
    branch_rule_set(repo=repo, branch="main")
    branch_rule_set(repo=repo, branch="dev", require_pull_request=False)
    alice = git_user(tmp_path / "alice", username="alice", token=hub.token)
    alice.run("clone", "-q", f"{hub.url}/alice/tiny", str(tmp_path / "clone"))
    clone = tmp_path / "clone"
    (clone / "x.txt").write_bytes(b"x\n")
    alice.run("add", "x.txt", cwd=clone)
    alice.run("commit", "-q", "-m", "Add x", cwd=clone)
    pushed = alice.run("push", "origin", "main", cwd=clone, check=False)
    assert pushed.returncode == 1
    assert f"! [remote rejected] main -> main ({NEEDS_PR})" in pushed.stderr
    deleted = alice.run("push", "origin", ":dev", cwd=clone, check=False)
    assert deleted.returncode == 1
    assert "(Branch dev is protected by a branch rule: it cannot be deleted.)" in deleted.stderr
    assert alice.run("push", "origin", "HEAD:dev", cwd=clone).returncode == 0


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_stock_client_merge_names_stale_approvals_requested_changes_and_code_owners(hub, bob_hub):
    carol = make_user("carol")
    make_org("acme", admin=hub.user, members={"carol": "write"})
    hub.api.create_repo("acme/tiny")
    hub.api.upload_file(path_or_fileobj=b"*.txt @carol\n", path_in_repo="CODEOWNERS", repo_id="acme/tiny")
    repo = Repo.objects.get()
    branch_rule_set(repo=repo, branch="main", required_approvals=1, dismiss_stale_approvals=True, code_owners=True)
    info = bob_hub.api.upload_file(path_or_fileobj=b"b", path_in_repo="b.txt", repo_id="acme/tiny", create_pr=True)
    pr = Discussion.objects.get()

    def refusal() -> str:
        with pytest.raises(HfHubHTTPError) as refused:
            hub.api.merge_pull_request("acme/tiny", info.pr_num)
        assert refused.value.response.status_code == 403
        return str(refused.value)

    review_submit(discussion=pr, user=carol, state="approved")
    bob_hub.api.upload_file(path_or_fileobj=b"c", path_in_repo="c.txt", repo_id="acme/tiny", revision="refs/pr/1")
    stale = refusal()
    assert "(approvals given before the latest commit do not count)" in stale
    assert "an approval from a code owner of b.txt (carol), c.txt (carol) (code_owners)" in stale
    review_submit(discussion=pr, user=hub.user, state="changes_requested", comment="Rename c.txt")
    asked = refusal()
    assert "the changes alice requested: their review must approve first" in asked
    review_submit(discussion=pr, user=hub.user, state="approved")
    assert "a code owner of b.txt (carol), c.txt (carol)" in refusal()
    review_submit(discussion=pr, user=carol, state="approved")
    hub.api.merge_pull_request("acme/tiny", info.pr_num)
    assert set(hub.api.list_repo_files("acme/tiny")) == {".gitattributes", "CODEOWNERS", "b.txt", "c.txt"}


def test_a_failing_check_tells_the_author_of_the_pull_request(alice, bob, repo, django_capture_on_commit_callbacks):
    from community.notifications.models import Notification

    pr = propose(repo, bob, {"new.txt": b"new\n"}, summary="Add new")
    Notification.objects.all().delete()
    head = ref_target(repo=repo, ref="refs/pr/1")
    with django_capture_on_commit_callbacks(execute=True):
        check_report(repo=repo, user=alice, commit_oid=head, name="ci", state="success")
    assert Notification.objects.count() == 0
    with django_capture_on_commit_callbacks(execute=True):
        check_report(repo=repo, user=alice, commit_oid=head, name="ci", state="failure", summary="2 tests failed")
    assert [(n.recipient.username, n.kind, n.body) for n in Notification.objects.all()] == [
        ("bob", "checks_failed", "2 tests failed")
    ]
    assert pr.num == 1
