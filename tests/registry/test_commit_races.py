"""Two commits racing on the same parent: exactly one wins, the other gets 412, nothing is lost."""

import threading

import pytest
from django.db import connection, connections

from common.errors import PreconditionFailed
from registry.choices import RepoType
from registry.models import GitCommit, Ref
from registry.selectors.revisions import revision_resolve
from registry.services import commits as commit_services
from registry.services.commits import AddFile, commit_create
from registry.services.repos import repo_create
from registry.storage import stage_bytes
from registry.trees import tree_files
from tests.support.factories import make_user

pytestmark = pytest.mark.django_db(transaction=True)


def _race(repo, user, parent, *, barrier_in_swap: bool, monkeypatch):
    outcomes: dict[str, object] = {}
    start = threading.Barrier(2)
    if barrier_in_swap:
        swap = threading.Barrier(2, timeout=30)
        original = commit_services.ref_compare_and_swap

        def waiting_swap(**kwargs):
            swap.wait()  # both commits have built their trees and hold the same expected head
            return original(**kwargs)

        monkeypatch.setattr(commit_services, "ref_compare_and_swap", waiting_swap)

    def attempt(label: str):
        try:
            start.wait()
            operation = AddFile(path=f"{label}.txt", staged=stage_bytes(label.encode()))
            result = commit_create(
                repo=repo, user=user, ref="refs/heads/main", operations=[operation], summary=label, parent_commit=parent
            )
            outcomes[label] = result.commit.oid
        except PreconditionFailed as error:
            outcomes[label] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt, args=(label,)) for label in ("left", "right")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    monkeypatch.undo()
    return outcomes


def _check_exactly_one_won(repo, outcomes, parent):
    winners = {label: oid for label, oid in outcomes.items() if isinstance(oid, str)}
    losers = {label: err for label, err in outcomes.items() if isinstance(err, PreconditionFailed)}
    assert (len(winners), len(losers)) == (1, 1), outcomes
    (winner, oid), (loser, error) = next(iter(winners.items())), next(iter(losers.items()))
    assert error.status == 412
    head = revision_resolve(repo=repo, revision="main").commit
    assert head.oid == oid
    assert head.parents == [parent]
    assert sorted(f.path for f in tree_files(head.tree_oid)) == [".gitattributes", f"{winner}.txt"]
    assert Ref.objects.filter(repo=repo).count() == 1
    # The loser left no commit behind, and the winner's is the only child of the parent.
    assert GitCommit.objects.filter(repo=repo).count() == 2
    return loser


@pytest.mark.parametrize("barrier_in_swap", [False, True], ids=["plain", "both-reach-the-swap"])
def test_racing_commits_on_the_same_parent(monkeypatch, barrier_in_swap):
    if barrier_in_swap and connection.vendor != "postgresql":
        pytest.skip("SQLite serialises write transactions; both commits cannot be inside one at once")
    user = make_user("racer")
    repo = repo_create(user=user, namespace=user.namespace, name="race", repo_type=RepoType.MODEL)
    parent = revision_resolve(repo=repo, revision="main").oid
    outcomes = _race(repo, user, parent, barrier_in_swap=barrier_in_swap, monkeypatch=monkeypatch)
    loser = _check_exactly_one_won(repo, outcomes, parent)
    # Retrying on the new head succeeds: nothing was lost.
    head = revision_resolve(repo=repo, revision="main").oid
    operation = AddFile(path=f"{loser}.txt", staged=stage_bytes(b"again"))
    commit_create(
        repo=repo, user=user, ref="refs/heads/main", operations=[operation], summary="retry", parent_commit=head
    )
    final = revision_resolve(repo=repo, revision="main").commit
    assert sorted(f.path for f in tree_files(final.tree_oid)) == [".gitattributes", "left.txt", "right.txt"]
