"""Checks reported on commits (CI, scans, evaluations): the latest report of a name counts."""

from __future__ import annotations

from common.errors import ValidationError
from common.events import EventKind
from community.choices import CheckState
from community.models import CommitCheck
from community.rules import open_pull_requests_at
from community.services.discussions import pull_request_checks_failed
from registry.events import repo_event
from registry.models import Repo
from registry.selectors.revisions import commit_get


def check_report(
    *, repo: Repo, user, commit_oid: str, name: str, state: str, summary: str = "", details_url: str = ""
) -> CommitCheck:
    """Record ``state`` of the check ``name`` on a commit of ``repo`` (writers; the caller
    checks), replacing an earlier report of the same name. An unknown commit is
    ``RevisionNotFound``; the commit must be named by its full id. A failure or error on the head
    of an open pull request tells its author (``pull_request_checks_failed``)."""
    if len(commit_oid) != 40:
        raise ValidationError("Name the commit by its full 40-character id.", fields={"sha": ["40 hex digits."]})
    commit = commit_get(repo=repo, oid=commit_oid.lower())
    if state not in CheckState.values:
        raise ValidationError(
            f"state must be one of {', '.join(CheckState.values)}.", fields={"state": ["Unknown state."]}
        )
    if details_url and (not details_url.startswith(("https://", "http://")) or len(details_url) > 2000):
        raise ValidationError(
            "details_url must be an http(s) URL of at most 2000 characters.", fields={"details_url": ["Invalid URL."]}
        )
    if len(summary) > 1000:
        raise ValidationError("summary is limited to 1000 characters.", fields={"summary": ["Too long."]})
    if not name.strip() or len(name) > 100:
        raise ValidationError("A check's name has 1 to 100 characters.", fields={"name": ["1 to 100 characters."]})
    check, _ = CommitCheck.objects.update_or_create(
        repo=repo, commit_oid=commit.oid, name=name.strip(),
        defaults={"state": state, "summary": summary, "details_url": details_url, "reporter": user},
    )  # fmt: skip
    repo_event(
        kind=EventKind.CHECK_REPORTED, repo=repo, actor=user, name=check.name, state=str(state), summary=summary,
        commit=commit.oid, details_url=details_url,
    )  # fmt: skip
    if state in {CheckState.FAILURE, CheckState.ERROR}:
        for pull_request in open_pull_requests_at(repo=repo, commit_oid=commit.oid):
            pull_request_checks_failed(discussion=pull_request, check=check.name, summary=summary)
    return check
