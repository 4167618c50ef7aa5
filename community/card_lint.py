"""The hub's own check on pull requests: ``card-lint``, the card validator run on every commit a
pull request receives, reported through the checks API like any CI (``services.checks``).

A card with errors cannot be committed at all; the check goes further and fails on what a
commit may carry but a reviewer should not merge: no ``README.md``, no licence, and the
validator's warnings (unknown task or library names, malformed ``model-index`` results, …). A
branch rule can require it by name.
"""

from __future__ import annotations

from community.choices import CheckState
from community.models import CommitCheck
from community.services.checks import check_report
from registry.models import Repo
from registry.selectors.revisions import commit_get
from registry.services.commits import card_of_tree

CARD_LINT_CHECK = "card-lint"
MAX_SUMMARY = 1000


def card_lint(*, repo: Repo, commit_oid: str) -> tuple[CheckState, str]:
    """The check's state and summary for the card of ``repo`` at ``commit_oid``."""
    card = card_of_tree(repo=repo, tree=commit_get(repo=repo, oid=commit_oid).tree_oid)
    if card is None:
        return CheckState.FAILURE, "No README.md: the repository has no card."
    problems = [str(issue) for issue in [*card.errors, *card.warnings]]
    if not card.metadata.get("license"):
        problems.append("license: the card names no licence")
    if not problems:
        return CheckState.SUCCESS, "The card is valid."
    summary = f"{len(problems)} problem{'s' if len(problems) > 1 else ''}: " + "; ".join(problems)
    return CheckState.FAILURE, summary if len(summary) <= MAX_SUMMARY else summary[: MAX_SUMMARY - 1] + "…"


def card_lint_report(*, repo: Repo, commit_oid: str) -> CommitCheck:
    """Run the card check on ``commit_oid`` and report it (by the hub: no reporter)."""
    state, summary = card_lint(repo=repo, commit_oid=commit_oid)
    return check_report(repo=repo, user=None, commit_oid=commit_oid, name=CARD_LINT_CHECK, state=state, summary=summary)
