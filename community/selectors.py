"""Reads behind the Community tab: a repository's discussions and pull requests, their timelines
and reviews, and what a pull request changes against its target branch.

A listing costs the same few queries however long it is: every count comes from one aggregate,
rows carry their comment counts as a subquery, and the reviews of a page's pull requests come in
one query.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from django.core.paginator import Page, Paginator
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from common.errors import NotFound, ValidationError
from community.choices import DiscussionEventType, DiscussionStatus, ReviewState
from community.models import Discussion, DiscussionEvent
from registry.models import GitCommit, Repo
from registry.selectors.commits import merge_base
from registry.selectors.diffs import FileChange, tree_changes
from registry.selectors.revisions import commit_get, ref_target

PAGE_SIZE = 25
OPEN_STATUSES = (DiscussionStatus.OPEN, DiscussionStatus.DRAFT)
CLOSED_STATUSES = (DiscussionStatus.CLOSED, DiscussionStatus.MERGED)


class KindFilter(StrEnum):
    ALL = "all"
    DISCUSSION = "discussion"
    PULL_REQUEST = "pull_request"


class StatusFilter(StrEnum):
    ALL = "all"
    OPEN = "open"
    CLOSED = "closed"


@dataclass(frozen=True)
class CommunityFilters:
    """What the Community tab shows: a kind, a status (every status by default, so merged pull
    requests stay in sight; open counts drafts; closed counts merged pull requests) and an author
    (a username, any case)."""

    kind: KindFilter = KindFilter.ALL
    status: StatusFilter = StatusFilter.ALL
    author: str = ""


def community_filters_parse(params) -> CommunityFilters:
    """Filters from a query string (``type``, ``status``, ``author``); unknown values are a 400."""
    try:
        kind = KindFilter(params.get("type") or KindFilter.ALL)
        status = StatusFilter(params.get("status") or StatusFilter.ALL)
    except ValueError:
        raise ValidationError(
            "Filter by type all, discussion or pull_request, and by status open, closed or all."
        ) from None
    return CommunityFilters(kind=kind, status=status, author=(params.get("author") or "").strip())


def _kind_q(kind: KindFilter) -> Q | None:
    if kind == KindFilter.ALL:
        return None
    return Q(is_pull_request=kind == KindFilter.PULL_REQUEST)


def _status_q(status: StatusFilter) -> Q | None:
    if status == StatusFilter.ALL:
        return None
    return Q(status__in=OPEN_STATUSES if status == StatusFilter.OPEN else CLOSED_STATUSES)


def _author_q(author: str) -> Q | None:
    return Q(author__username__iexact=author) if author else None


def _count(*conditions: Q | None) -> Count:
    present = [condition for condition in conditions if condition is not None]
    return Count("pk", filter=functools.reduce(operator.and_, present)) if present else Count("pk")


@dataclass(frozen=True)
class CommunityCounts:
    """How many discussions and pull requests each filter choice would show (each count keeps the
    other filters as they are), and how many are open in the whole repository."""

    all: int
    discussions: int
    pull_requests: int
    open: int
    closed: int
    open_total: int

    @property
    def any_status(self) -> int:
        return self.open + self.closed

    def of(self, filters: CommunityFilters) -> int:
        """The number of items the filters themselves select."""
        if filters.status == StatusFilter.OPEN:
            return self.open
        if filters.status == StatusFilter.CLOSED:
            return self.closed
        return self.any_status


def community_counts(*, repo: Repo, filters: CommunityFilters) -> CommunityCounts:
    """All the counts of the tab in one aggregate query."""
    kind, status, author = _kind_q(filters.kind), _status_q(filters.status), _author_q(filters.author)
    counts = Discussion.objects.filter(repo=repo).aggregate(
        all=_count(status, author),
        discussions=_count(status, author, Q(is_pull_request=False)),
        pull_requests=_count(status, author, Q(is_pull_request=True)),
        open=_count(kind, author, _status_q(StatusFilter.OPEN)),
        closed=_count(kind, author, _status_q(StatusFilter.CLOSED)),
        open_total=_count(_status_q(StatusFilter.OPEN)),
    )
    return CommunityCounts(**counts)


def community_open_count(*, repo: Repo) -> int:
    """Open discussions and pull requests (drafts included), for the repository's tab."""
    return Discussion.objects.filter(repo=repo, status__in=OPEN_STATUSES).count()


# ---------------------------------------------------------------------------------------- reviews


@dataclass(frozen=True)
class Review:
    """A reviewer's latest review of a pull request; ``stale`` when commits came after it."""

    event: DiscussionEvent
    state: ReviewState
    stale: bool

    @property
    def reviewer(self):
        return self.event.author


@dataclass(frozen=True)
class ReviewSummary:
    reviews: tuple[Review, ...] = ()
    awaited: tuple[str, ...] = ()  # user names asked to review who have not reviewed since

    @property
    def approvals(self) -> int:
        return sum(1 for review in self.reviews if review.state == ReviewState.APPROVED)

    @property
    def change_requests(self) -> int:
        return sum(1 for review in self.reviews if review.state == ReviewState.CHANGES_REQUESTED)

    @property
    def state(self) -> str:
        """``changes_requested`` while any reviewer's latest review asks for changes, else
        ``approved`` when someone approved, else ``""``."""
        if self.change_requests:
            return ReviewState.CHANGES_REQUESTED
        return ReviewState.APPROVED if self.approvals else ""


def is_review(event: DiscussionEvent) -> bool:
    return event.type == DiscussionEventType.COMMENT and event.data.get("review") in set(ReviewState)


def review_summary(events: Iterable[DiscussionEvent]) -> ReviewSummary:
    """The latest review of each reviewer, from a pull request's events in timeline order.
    Reviews of accounts since deleted are left out (there is nobody to ask)."""
    events = list(events)
    last_commit = max((index for index, e in enumerate(events) if e.type == DiscussionEventType.COMMIT), default=-1)
    latest: dict[int, Review] = {}
    awaited: dict[int, str] = {}  # reviewer id → user name, in the order they were asked
    for index, event in enumerate(events):
        if is_review(event) and event.author_id is not None:
            latest.pop(event.author_id, None)  # keep reviewers ordered by their latest review
            latest[event.author_id] = Review(
                event=event, state=ReviewState(event.data["review"]), stale=index < last_commit
            )
            awaited.pop(event.author_id, None)
        elif event.type == DiscussionEventType.REVIEW_REQUEST:
            for reviewer_id, name in zip(event.data["reviewer_ids"], event.data["reviewers"], strict=True):
                awaited.setdefault(reviewer_id, name)
    return ReviewSummary(reviews=tuple(latest.values()), awaited=tuple(awaited.values()))


def _review_summaries(discussion_ids: list[int]) -> dict[int, ReviewSummary]:
    events = (
        DiscussionEvent.objects.filter(discussion_id__in=discussion_ids)
        .filter(
            Q(type__in=[DiscussionEventType.COMMIT, DiscussionEventType.REVIEW_REQUEST])
            | Q(type=DiscussionEventType.COMMENT, data__has_key="review")
        )
        .select_related("author")
        .order_by("created_at", "id")
    )
    grouped: dict[int, list[DiscussionEvent]] = {pk: [] for pk in discussion_ids}
    for event in events:
        grouped[event.discussion_id].append(event)
    return {pk: review_summary(items) for pk, items in grouped.items()}


# ---------------------------------------------------------------------------------------- listing


@dataclass(frozen=True)
class DiscussionRow:
    discussion: Discussion  # annotated with ``comment_count``
    review: ReviewSummary | None  # pull requests only


class _Rows(Sequence):
    """The filtered rows as the paginator sees them: the length is the count the aggregate
    already gave, and a slice is one query (plus one for the reviews of its pull requests)."""

    def __init__(self, queryset: QuerySet, total: int) -> None:
        self.queryset, self.total = queryset, total

    def __len__(self) -> int:
        return self.total

    def __getitem__(self, index):
        if not isinstance(index, slice):
            raise TypeError("rows are read a page at a time")
        discussions = list(self.queryset[index])
        reviews = _review_summaries([d.pk for d in discussions if d.is_pull_request])
        return [DiscussionRow(discussion=d, review=reviews.get(d.pk)) for d in discussions]


@dataclass(frozen=True)
class CommunityListing:
    page: Page  # of DiscussionRow
    counts: CommunityCounts
    filters: CommunityFilters


def community_listing(*, repo: Repo, filters: CommunityFilters, page: int | str) -> CommunityListing:
    """One page of ``repo``'s discussions and pull requests matching ``filters``, newest first,
    with comment counts and review states. Pages past the last give the last page."""
    counts = community_counts(repo=repo, filters=filters)
    conditions = [q for q in (_kind_q(filters.kind), _status_q(filters.status), _author_q(filters.author)) if q]
    comments = (
        DiscussionEvent.objects.filter(discussion=OuterRef("pk"), type=DiscussionEventType.COMMENT)
        .order_by()
        .values("discussion")
        .annotate(n=Count("pk"))
        .values("n")
    )
    queryset = (
        Discussion.objects.filter(*conditions, repo=repo)
        .select_related("author")
        .annotate(comment_count=Coalesce(Subquery(comments), 0))
        .order_by("-num")
    )
    total = {KindFilter.ALL: counts.all, KindFilter.DISCUSSION: counts.discussions}.get(
        filters.kind, counts.pull_requests
    )
    paginator = Paginator(_Rows(queryset, total), PAGE_SIZE)
    return CommunityListing(page=paginator.get_page(page), counts=counts, filters=filters)


# ------------------------------------------------------------------------------- one discussion


def discussion_get(*, repo: Repo, num: int) -> Discussion:
    discussion = Discussion.objects.select_related("author").filter(repo=repo, num=num).first()
    if discussion is None:
        raise NotFound(f"Discussion #{num} not found in {repo.repo_id}.")
    discussion.repo = repo  # the caller's instance, with its namespace already loaded
    return discussion


def comment_get(*, discussion: Discussion, event_id: int) -> DiscussionEvent:
    """The comment ``event_id`` of ``discussion`` (404 for any other event or id)."""
    event = discussion.events.select_related("author").filter(pk=event_id, type=DiscussionEventType.COMMENT).first()
    if event is None:
        raise NotFound(f"No comment {event_id} in discussion #{discussion.num}.")
    event.discussion = discussion
    return event


def pull_request_conflicts(*, discussion: Discussion) -> list[str]:
    """Files both the pull request and its target changed differently since they diverged."""
    repo = discussion.repo
    head = commit_get(repo=repo, oid=ref_target(repo=repo, ref=discussion.git_reference))
    target = commit_get(repo=repo, oid=ref_target(repo=repo, ref=discussion.target_ref))
    base = merge_base(repo=repo, left=head, right=target)
    ours = {c.path: c for c in tree_changes(old_tree=base.tree_oid if base else None, new_tree=target.tree_oid)}
    theirs = {c.path: c for c in tree_changes(old_tree=base.tree_oid if base else None, new_tree=head.tree_oid)}
    return sorted(
        path for path in ours.keys() & theirs.keys()
        if (ours[path].new.oid if ours[path].new else None) != (theirs[path].new.oid if theirs[path].new else None)
    )  # fmt: skip


def pull_request_find(*, repo: Repo, num: int) -> Discussion | None:
    """Pull request ``num`` of ``repo``, or None when there is none (a discussion is not one)."""
    return Discussion.objects.filter(repo=repo, num=num, is_pull_request=True).first()


def discussion_timeline(*, discussion: Discussion) -> list[DiscussionEvent]:
    """Every event of ``discussion`` in order, with its author."""
    return list(discussion.events.select_related("author"))


@dataclass(frozen=True)
class PullRequestChanges:
    """A pull request measured against its target: ``base`` is where the changes start (the merge
    base with the target, or for a merged pull request the target as it was when merged);
    ``conflicts`` lists the files both sides changed differently (open and draft pull requests)."""

    head: GitCommit
    target: GitCommit | None  # the target branch now; None when it was deleted
    base: GitCommit | None
    changes: list[FileChange] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)

    @property
    def target_missing(self) -> bool:
        return self.target is None


def _merged_base(*, discussion: Discussion, head: GitCommit, events: Sequence[DiscussionEvent]) -> GitCommit | None:
    """The target as it was before the merge, met by the pull request: the merge records the
    target's head it moved (``target_before``); merges recorded before that are measured from the
    first parent of their merge commit, or (a fast-forward) from the parent of the first commit the
    timeline recorded."""
    repo = discussion.repo
    merges = [e for e in events if e.type == DiscussionEventType.STATUS_CHANGE and e.data.get("status") == "merged"]
    merged_event = merges[-1] if merges else None
    target_before = merged_event.data.get("target_before") if merged_event is not None else None
    if target_before:
        return merge_base(repo=repo, left=head, right=commit_get(repo=repo, oid=target_before))
    merged = commit_get(repo=repo, oid=discussion.merge_commit_oid) if discussion.merge_commit_oid else head
    if merged.oid != head.oid and len(merged.parents) > 1:
        before = commit_get(repo=repo, oid=merged.parents[0])
        return merge_base(repo=repo, left=head, right=before)
    commit_oids = [e.data["oid"] for e in events if e.type == DiscussionEventType.COMMIT]
    if not commit_oids:
        return head
    first = commit_get(repo=repo, oid=commit_oids[0])
    return commit_get(repo=repo, oid=first.parents[0]) if first.parents else None


def pull_request_changes(
    *, discussion: Discussion, events: Sequence[DiscussionEvent] | None = None
) -> PullRequestChanges:
    """What ``discussion`` (a pull request) changes. ``events`` is its timeline, when the caller
    has read it already (a merged pull request needs it; it is read when not given)."""
    repo = discussion.repo
    head = commit_get(repo=repo, oid=ref_target(repo=repo, ref=discussion.git_reference))
    target_oid = ref_target(repo=repo, ref=discussion.target_ref)
    target = commit_get(repo=repo, oid=target_oid) if target_oid else None
    conflicts: list[str] = []
    if discussion.status == DiscussionStatus.MERGED:
        if events is None:
            events = list(
                discussion.events.filter(type__in=[DiscussionEventType.COMMIT, DiscussionEventType.STATUS_CHANGE])
            )
        base = _merged_base(discussion=discussion, head=head, events=events)
    elif target is None:
        return PullRequestChanges(head=head, target=None, base=None)
    else:
        base = merge_base(repo=repo, left=head, right=target)
        if discussion.status in OPEN_STATUSES:
            conflicts = pull_request_conflicts(discussion=discussion)
    changes = tree_changes(old_tree=base.tree_oid if base else None, new_tree=head.tree_oid)
    return PullRequestChanges(head=head, target=target, base=base, changes=changes, conflicts=conflicts)


def pull_request_merge_blocker(*, discussion: Discussion, changes: PullRequestChanges) -> str:
    """Why the pull request cannot be merged now (``""`` when it can, by someone with write access)."""
    branch = discussion.target_ref.removeprefix("refs/heads/")
    if discussion.status == DiscussionStatus.MERGED:
        return "This pull request is already merged."
    if discussion.status == DiscussionStatus.DRAFT:
        return "This pull request is a draft: publish it to allow merging."
    if discussion.status == DiscussionStatus.CLOSED:
        return "This pull request is closed: reopen it to merge."
    if changes.target_missing:
        return f"The target branch {branch} no longer exists."
    if changes.conflicts:
        count = len(changes.conflicts)
        return f"This pull request conflicts with {branch} on {count} file{'s' if count != 1 else ''}."
    if not changes.changes:
        return "There are no changes to merge."
    return ""


def with_open_discussion_counts(queryset: QuerySet[Repo]) -> QuerySet[Repo]:
    """``queryset`` with each repository's open discussions and pull requests counted in the same
    query (``open_discussions``), for listings."""
    open_items = (
        Discussion.objects.filter(repo=OuterRef("pk"), status__in=OPEN_STATUSES)
        .order_by()
        .values("repo")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return queryset.annotate(open_discussions=Coalesce(Subquery(open_items), 0))


@dataclass(frozen=True)
class LineNote:
    """A reviewer's comment on one line of a pull request's file (``data["line_comments"]``)."""

    path: str
    line: int
    body: str
    author: object
    event_id: int


def pull_request_line_notes(*, discussion: Discussion) -> dict[str, dict[int, list[LineNote]]]:
    """The line comments of a pull request's reviews, by path and line (in the new file's
    numbering), oldest first; those of hidden reviews are left out."""
    notes: dict[str, dict[int, list[LineNote]]] = {}
    events = discussion.events.filter(type=DiscussionEventType.COMMENT, data__has_key="line_comments")
    for event in events.select_related("author").order_by("created_at", "id"):
        if event.data.get("hidden"):
            continue
        for item in event.data.get("line_comments") or []:
            note = LineNote(item["path"], item["line"], item["body"], event.author, event.pk)
            notes.setdefault(note.path, {}).setdefault(note.line, []).append(note)
    return notes
