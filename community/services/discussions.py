"""Discussions and pull requests: opening, commenting, status and title changes, merging.

Numbers are allocated under a lock on the repository row (``hub.locks.repo_lock``). A pull
request owns ``refs/pr/<num>``, created at the head of its target branch; merging fast-forwards the
target when possible, else writes a merge commit when the two sides changed different files, else
reports the conflicting files. The target moves by compare-and-swap, like every ref.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Max

from common.errors import Conflict, PermissionDenied, ValidationError
from common.events import DiscussionSnapshot, Event, EventKind, emit
from community.choices import DiscussionEventType, DiscussionStatus, ReviewState
from community.locks import repo_lock
from community.models import Discussion, DiscussionEvent
from community.rules import merge_requirements_missing
from community.selectors import pull_request_conflicts
from community.services.branch_rules import BranchProtected
from community.signals import pull_request_committed
from hub.models import User
from registry.access import Permission, repo_role
from registry.errors import RevisionNotFound
from registry.events import repo_snapshot
from registry.git.objects import commit_message
from registry.models import GitCommit, Ref, Repo
from registry.selectors.commits import is_ancestor, merge_base
from registry.selectors.diffs import tree_changes
from registry.selectors.revisions import commit_get, ref_target
from registry.services.commits import card_of_tree, commit_create, commit_object_create
from registry.services.metadata import repo_on_default_branch_commit
from registry.services.refs import ref_compare_and_swap
from registry.trees import TreeEditor

MAX_COMMENT = 65_536


def _title(title: str) -> str:
    title = (title or "").strip()
    if not 1 <= len(title) <= 200:
        raise ValidationError("A title needs 1 to 200 characters.", fields={"title": ["1 to 200 characters."]})
    return title


def _content(content: str) -> str:
    if not isinstance(content, str) or not content.strip():
        raise ValidationError("A comment cannot be empty.", fields={"comment": ["Write something."]})
    if len(content) > MAX_COMMENT:
        raise ValidationError(f"A comment is limited to {MAX_COMMENT} characters.")
    return content


def can_moderate(*, user, repo: Repo) -> bool:
    role = repo_role(user=user, repo=repo)
    return role is not None and role >= Permission.WRITE


def _check_author_or_writer(*, user, discussion: Discussion, what: str) -> None:
    if discussion.author_id != getattr(user, "pk", None) and not can_moderate(user=user, repo=discussion.repo):
        raise PermissionDenied(f"Only the author or people with write access can {what}.")


def _event(*, discussion: Discussion, user, type: str, data: dict) -> DiscussionEvent:
    return DiscussionEvent.objects.create(discussion=discussion, author=user, type=type, data=data)


def comment_data(content: str) -> dict:
    return {"content": content, "edited": False, "hidden": False, "history": []}


def discussion_event(
    *, kind: EventKind, discussion: Discussion, user=None, user_ids: tuple[int, ...] = (), **data
) -> Event:
    """Announce ``kind`` about ``discussion`` (``common.events``) once the transaction commits:
    notifications and webhooks react. ``user`` did it; ``user_ids`` are people it is addressed to."""
    snapshot = DiscussionSnapshot(
        id=discussion.pk, num=discussion.num, title=discussion.title, is_pull_request=discussion.is_pull_request,
        status=discussion.status, author_id=discussion.author_id,
    )  # fmt: skip
    return emit(
        Event(
            kind=kind, actor_id=getattr(user, "pk", None), repo=repo_snapshot(repo=discussion.repo),
            discussion=snapshot, user_ids=tuple(user_ids), data=data,
        )
    )  # fmt: skip


def discussion_create(
    *, repo: Repo, user: User, title: str, description: str, pull_request: bool, status: str | None = None,
    target_branch: str | None = None,
) -> Discussion:  # fmt: skip
    """Open a discussion or a pull request; the description is the first comment.

    A pull request starts (as a draft unless ``status`` says otherwise) at the head of
    ``target_branch`` (the default branch unless given), on the ref ``refs/pr/<num>``.
    """
    title = _title(title)
    description = _content(description) if description and description.strip() else ""
    with transaction.atomic():
        repo_lock(repo_id=repo.pk)
        num = (Discussion.objects.filter(repo=repo).aggregate(last=Max("num"))["last"] or 0) + 1
        target = f"refs/heads/{target_branch or repo.default_branch}" if pull_request else ""
        if pull_request and ref_target(repo=repo, ref=target) is None:
            raise RevisionNotFound(f"Branch {target.removeprefix('refs/heads/')} not found.")
        discussion = Discussion.objects.create(
            repo=repo, num=num, title=title, is_pull_request=pull_request, author=user, target_ref=target,
            status=status or (DiscussionStatus.DRAFT if pull_request else DiscussionStatus.OPEN),
        )  # fmt: skip
        if pull_request:
            Ref.objects.create(repo=repo, name=discussion.git_reference, target_oid=ref_target(repo=repo, ref=target))
        if description:
            _event(discussion=discussion, user=user, type=DiscussionEventType.COMMENT, data=comment_data(description))
        discussion_event(kind=EventKind.DISCUSSION_OPENED, discussion=discussion, user=user, content=description)
    return discussion


def comment_add(*, discussion: Discussion, user: User, content: str) -> DiscussionEvent:
    content = _content(content)
    if discussion.locked:
        raise PermissionDenied("This discussion was locked by the moderators: no new comments.")
    event = _event(discussion=discussion, user=user, type=DiscussionEventType.COMMENT, data=comment_data(content))
    discussion_event(
        kind=EventKind.DISCUSSION_COMMENTED, discussion=discussion, user=user, comment_id=event.pk, content=content
    )
    return event


def comment_edit(*, event: DiscussionEvent, user: User, content: str) -> DiscussionEvent:
    """Replace a comment's text, keeping the earlier versions in its history (author only)."""
    content = _content(content)
    if event.type != DiscussionEventType.COMMENT:
        raise ValidationError("Only comments can be edited.")
    if event.author_id != user.pk:
        raise PermissionDenied("Only the author of a comment can edit it.")
    data = dict(event.data)
    data["history"] = [
        *data.get("history", []),
        {"content": data["content"], "updatedAt": event.updated_at.isoformat()},
    ]
    data.update(content=content, edited=True)
    event.data = data
    event.save(update_fields=["data", "updated_at"])
    return event


def comment_hide(*, event: DiscussionEvent, user: User) -> DiscussionEvent:
    """Hide a comment (its author or a moderator); the text is kept for moderators."""
    if event.type != DiscussionEventType.COMMENT:
        raise ValidationError("Only comments can be hidden.")
    if event.author_id != user.pk and not can_moderate(user=user, repo=event.discussion.repo):
        raise PermissionDenied("Only the author or people with write access can hide a comment.")
    event.data = {**event.data, "hidden": True}
    event.save(update_fields=["data", "updated_at"])
    return event


def comment_set_hidden(*, event: DiscussionEvent, hidden: bool) -> DiscussionEvent:
    """Hide a comment or show it again, for the site's moderators (``community.moderation``,
    which checks who may and logs it)."""
    if event.type != DiscussionEventType.COMMENT:
        raise ValidationError("Only comments can be hidden.")
    event.data = {**event.data, "hidden": hidden}
    event.save(update_fields=["data", "updated_at"])
    return event


def discussion_set_locked(*, discussion: Discussion, locked: bool) -> Discussion:
    """Lock a discussion (no new comments) or unlock it, for the site's moderators."""
    discussion.locked = locked
    discussion.save(update_fields=["locked"])
    return discussion


def discussion_change_status(*, discussion: Discussion, user: User, status: str, comment: str = "") -> DiscussionEvent:
    """Open or close (author or writers). A merged pull request stays merged."""
    if status not in {DiscussionStatus.OPEN, DiscussionStatus.CLOSED}:
        raise ValidationError("status must be 'open' or 'closed'.", fields={"status": ["open or closed"]})
    _check_author_or_writer(user=user, discussion=discussion, what="change the status")
    if discussion.status == DiscussionStatus.MERGED:
        raise Conflict("This pull request is merged; its status can no longer change.")
    with transaction.atomic():
        if comment and comment.strip():
            comment_add(discussion=discussion, user=user, content=comment)
        discussion.status = status
        discussion.save(update_fields=["status"])
        discussion_event(kind=EventKind.DISCUSSION_STATUS, discussion=discussion, user=user, status=status)
        return _event(discussion=discussion, user=user, type=DiscussionEventType.STATUS_CHANGE, data={"status": status})


def discussion_rename(*, discussion: Discussion, user: User, title: str) -> DiscussionEvent:
    title = _title(title)
    _check_author_or_writer(user=user, discussion=discussion, what="rename it")
    with transaction.atomic():
        previous = discussion.title
        discussion.title = title
        discussion.save(update_fields=["title"])
        return _event(
            discussion=discussion,
            user=user,
            type=DiscussionEventType.TITLE_CHANGE,
            data={"from": previous, "to": title},
        )


def check_can_push_to_pull_request(*, discussion: Discussion, user) -> None:
    """The author of a pull request and people with write access may commit to its ref."""
    if not discussion.is_pull_request:
        raise ValidationError(f"#{discussion.num} is a discussion, not a pull request.")
    if discussion.status in {DiscussionStatus.MERGED, DiscussionStatus.CLOSED}:
        raise Conflict(f"Pull request #{discussion.num} is {discussion.status}; reopen it to add commits.")
    _check_author_or_writer(user=user, discussion=discussion, what="push to this pull request")


def pull_request_record_commit(*, discussion: Discussion, user, commit: GitCommit) -> DiscussionEvent:
    """Record a commit in the pull request's timeline (inside the commit's transaction); apps
    above hear of it through ``community.signals.pull_request_committed`` once it commits."""
    discussion_id, oid = discussion.pk, commit.oid
    transaction.on_commit(
        lambda: pull_request_committed.send(sender=Discussion, discussion_id=discussion_id, commit_oid=oid)
    )
    return _event(
        discussion=discussion,
        user=user,
        type=DiscussionEventType.COMMIT,
        data={"oid": commit.oid, "subject": commit.title},
    )


@dataclass(frozen=True)
class MergeOutcome:
    commit_oid: str
    fast_forward: bool


def pull_request_merge(*, discussion: Discussion, user: User, comment: str = "") -> MergeOutcome:
    """Merge an open pull request into its target (writers only), once the target's branch rule
    (``community.rules.merge_requirements_missing``) has nothing left to ask."""
    repo = discussion.repo
    if not can_moderate(user=user, repo=repo):
        raise PermissionDenied("Merging needs write access to the repository.")
    if not discussion.is_pull_request:
        raise ValidationError(f"#{discussion.num} is not a pull request.")
    if discussion.status != DiscussionStatus.OPEN:
        raise Conflict(f"Only open pull requests can be merged; #{discussion.num} is {discussion.status}.")
    missing = merge_requirements_missing(discussion=discussion, user=user)
    if missing:
        branch = discussion.target_ref.removeprefix("refs/heads/")
        raise BranchProtected(
            f"Pull request #{discussion.num} cannot be merged into {branch} yet: its branch rule needs "
            + "; ".join(missing)
            + "."
        )
    with transaction.atomic():
        head = commit_get(repo=repo, oid=ref_target(repo=repo, ref=discussion.git_reference))
        target_oid = ref_target(repo=repo, ref=discussion.target_ref)
        target = commit_get(repo=repo, oid=target_oid)
        if is_ancestor(repo=repo, ancestor=target, descendant=head):
            merged, fast_forward = head, True
        else:
            conflicts = pull_request_conflicts(discussion=discussion)
            if conflicts:
                raise Conflict(
                    f"The pull request conflicts with {discussion.target_ref} on: {', '.join(conflicts[:20])}"
                )
            merged, fast_forward = (
                _merge_commit(repo=repo, user=user, discussion=discussion, head=head, target=target),
                False,
            )
        ref_compare_and_swap(repo=repo, name=discussion.target_ref, expected=target_oid, new=merged.oid)
        if comment and comment.strip():
            comment_add(discussion=discussion, user=user, content=comment)
        discussion.status = DiscussionStatus.MERGED
        discussion.merge_commit_oid = merged.oid
        discussion.save(update_fields=["status", "merge_commit_oid"])
        # The target's head before the merge: what the pull request changed is measured from it
        # once its ref and the target have moved on (community.selectors).
        _event(
            discussion=discussion, user=user, type=DiscussionEventType.STATUS_CHANGE,
            data={"status": "merged", "target_before": target_oid},
        )  # fmt: skip
        discussion_event(kind=EventKind.DISCUSSION_STATUS, discussion=discussion, user=user, status="merged")
        if discussion.target_ref == f"refs/heads/{repo.default_branch}":
            repo_on_default_branch_commit(repo=repo, commit=merged, card=card_of_tree(repo=repo, tree=merged.tree_oid),
                                          card_changed=True)  # fmt: skip
    return MergeOutcome(commit_oid=merged.oid, fast_forward=fast_forward)


def _merge_commit(*, repo: Repo, user: User, discussion: Discussion, head: GitCommit, target: GitCommit) -> GitCommit:
    base = merge_base(repo=repo, left=head, right=target)
    editor = TreeEditor(target.tree_oid)
    for change in tree_changes(old_tree=base.tree_oid if base else None, new_tree=head.tree_oid):
        if change.new is None:
            if editor.lookup(change.path) is not None:  # the target may have deleted it too
                editor.delete_file(change.path)
        else:
            new = change.new
            editor.add_file(change.path, oid=new.oid, size=new.size, sha256=new.sha256, lfs=new.lfs, mode=new.mode)
    message = commit_message(f"Merge pull request #{discussion.num}: {discussion.title}")
    return commit_object_create(repo=repo, user=user, tree=editor.write(), parents=[target, head], message=message)


# --------------------------------------------------------------------------------------- reviews


MAX_LINE_COMMENTS = 100


def line_comments_check(line_comments) -> list[dict]:
    """Comments on lines of a pull request's files: ``[{"path", "line", "body"}]``, at most
    :data:`MAX_LINE_COMMENTS`, each with a path, a line from 1 and a non-empty body."""
    if not isinstance(line_comments, list) or len(line_comments) > MAX_LINE_COMMENTS:
        raise ValidationError(
            f"comments must be a list of at most {MAX_LINE_COMMENTS} line comments.", fields={"comments": ["A list."]}
        )
    checked = []
    for index, item in enumerate(line_comments):
        where = f"comments[{index}]"
        if not isinstance(item, dict) or set(item) != {"path", "line", "body"}:
            raise ValidationError(f"{where} needs exactly path, line and body.", fields={where: ["path, line, body"]})
        path, line = item["path"], item["line"]
        if not isinstance(path, str) or not 1 <= len(path) <= 1000:
            raise ValidationError(f"{where}.path must name a file.", fields={f"{where}.path": ["A file path."]})
        if not isinstance(line, int) or isinstance(line, bool) or not 1 <= line <= 10_000_000:
            raise ValidationError(f"{where}.line must be a line number from 1.", fields={f"{where}.line": ["From 1."]})
        checked.append({"path": path, "line": line, "body": _content(item["body"])})
    return checked


def review_submit(
    *, discussion: Discussion, user: User, state: str, comment: str = "", line_comments: list | None = None
) -> DiscussionEvent:
    """Approve an open or draft pull request, or request changes to it (writers, not its author).

    A review is a comment event whose ``data`` also carries ``review`` (a :class:`ReviewState`),
    so the HF-compatible API shows its text as an ordinary comment and nothing else changes
    shape. Requesting changes needs a comment or line comments saying which; an approval may come
    without one (its content is then empty). Line comments (``[{"path", "line", "body"}]``) are kept
    in ``data["line_comments"]``. Each reviewer's latest review is the one that counts.
    """
    if state not in set(ReviewState):
        raise ValidationError(
            "A review approves or requests changes.", fields={"review": ["approved or changes_requested"]}
        )
    if not discussion.is_pull_request:
        raise ValidationError(f"#{discussion.num} is a discussion: only pull requests are reviewed.")
    if discussion.status not in {DiscussionStatus.OPEN, DiscussionStatus.DRAFT}:
        raise Conflict(f"Pull request #{discussion.num} is {discussion.status}; it can no longer be reviewed.")
    if not can_moderate(user=user, repo=discussion.repo):
        raise PermissionDenied("Reviewing needs write access to the repository.")
    if discussion.author_id == user.pk:
        raise PermissionDenied("Authors cannot review their own pull request.")
    lines = line_comments_check(line_comments or [])
    if (state == ReviewState.CHANGES_REQUESTED and not lines) or (comment and comment.strip()):
        content = _content(comment)
    else:
        content = ""
    data = {**comment_data(content), "review": str(state)}
    if lines:
        data["line_comments"] = lines
    event = _event(discussion=discussion, user=user, type=DiscussionEventType.COMMENT, data=data)
    discussion_event(
        kind=EventKind.REVIEW_SUBMITTED, discussion=discussion, user=user, review=str(state), comment_id=event.pk,
        content=content,
    )  # fmt: skip
    return event


def review_request(*, discussion: Discussion, user: User, reviewers: list[User]) -> Event:
    """Ask ``reviewers`` to review an open or draft pull request (its author or writers ask). Each
    reviewer needs write access and is not its author; the request is kept in the timeline (the
    page lists whose review is awaited) and they hear of it through ``review.requested``."""
    if not discussion.is_pull_request:
        raise ValidationError(f"#{discussion.num} is a discussion: only pull requests are reviewed.")
    if discussion.status not in {DiscussionStatus.OPEN, DiscussionStatus.DRAFT}:
        raise Conflict(f"Pull request #{discussion.num} is {discussion.status}; it can no longer be reviewed.")
    _check_author_or_writer(user=user, discussion=discussion, what="ask for reviews")
    if not reviewers:
        raise ValidationError("Name at least one reviewer.", fields={"reviewers": ["At least one."]})
    for reviewer in reviewers:
        if reviewer.pk == discussion.author_id or not can_moderate(user=reviewer, repo=discussion.repo):
            raise ValidationError(
                f"{reviewer.username} cannot review #{discussion.num}: reviewers have write access and are not "
                "its author.",
                fields={"reviewers": [f"{reviewer.username} cannot review."]},
            )
    reviewers = list({reviewer.pk: reviewer for reviewer in reviewers}.values())
    with transaction.atomic():
        _event(
            discussion=discussion, user=user, type=DiscussionEventType.REVIEW_REQUEST,
            data={"reviewers": [reviewer.username for reviewer in reviewers],
                  "reviewer_ids": [reviewer.pk for reviewer in reviewers]},
        )  # fmt: skip
        return discussion_event(
            kind=EventKind.REVIEW_REQUESTED, discussion=discussion, user=user, user_ids=tuple(r.pk for r in reviewers)
        )


def pull_request_checks_failed(*, discussion: Discussion, check: str, summary: str = "") -> Event:
    """Tell the author of a pull request (by the notification settings) that ``check`` failed on it:
    the call for whatever runs checks (``summary``: what went wrong, in a line or a few)."""
    return discussion_event(
        kind=EventKind.CHECKS_FAILED, discussion=discussion, check=check[:200], summary=summary[:2000]
    )


def review_comment(*, discussion: Discussion, user: User, comment: str, line_comments: list) -> DiscussionEvent:
    """A review that only comments (anyone who can read the repository): a comment with, maybe,
    comments on lines of the pull request's files; it neither approves nor blocks."""
    if not discussion.is_pull_request:
        raise ValidationError(f"#{discussion.num} is a discussion: only pull requests are reviewed.")
    lines = line_comments_check(line_comments)
    content = _content(comment) if (comment and comment.strip()) or not lines else ""
    data = comment_data(content) | ({"line_comments": lines} if lines else {})
    event = _event(discussion=discussion, user=user, type=DiscussionEventType.COMMENT, data=data)
    discussion_event(
        kind=EventKind.DISCUSSION_COMMENTED, discussion=discussion, user=user, comment_id=event.pk, content=content
    )
    return event


def pull_request_commit(
    *, discussion: Discussion, user: User, operations: list, summary: str, description: str = "",
    parent_commit: str | None = None,
) -> GitCommit:  # fmt: skip
    """Commit ``operations`` onto an open or draft pull request's ref (its author or writers) and
    record the commit in its timeline."""
    check_can_push_to_pull_request(discussion=discussion, user=user)
    with transaction.atomic():
        result = commit_create(
            repo=discussion.repo, user=user, ref=discussion.git_reference, operations=operations, summary=summary,
            description=description, parent_commit=parent_commit,
        )  # fmt: skip
        pull_request_record_commit(discussion=discussion, user=user, commit=result.commit)
    return result.commit


def pull_request_propose(
    *, repo: Repo, user: User, branch: str, operations: list, summary: str, description: str = "",
    parent_commit: str | None = None,
) -> Discussion:  # fmt: skip
    """Open a pull request against ``branch`` carrying one commit, in one transaction: the commit
    summary is its title and the description its first comment. Anyone who can read the
    repository may propose; a stale ``parent_commit`` (412) leaves no pull request behind."""
    with transaction.atomic():
        discussion = discussion_create(
            repo=repo, user=user, title=summary[:200], description=description, pull_request=True,
            status=DiscussionStatus.OPEN, target_branch=branch,
        )  # fmt: skip
        pull_request_commit(
            discussion=discussion, user=user, operations=operations, summary=summary, description=description,
            parent_commit=parent_commit,
        )  # fmt: skip
    return discussion
