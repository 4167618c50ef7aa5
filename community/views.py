"""HTML pages of a repository's Community tab: the list of discussions and pull requests, opening
one, a discussion's timeline with its comment, rename, status, review and merge forms, and the
files a pull request changes.

Every write is a plain form POST (CSRF-checked by Django's middleware) to a view that calls one
service of ``community.services.discussions`` and redirects back; a refused input re-renders the page
with the message beside the form that sent it, keeping what was typed.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass, replace

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.safestring import SafeString
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from common.errors import Conflict, NotFound, PermissionDenied, Unauthenticated, ValidationError
from community.choices import DiscussionEventType, DiscussionStatus
from community.conversion import conversion_request
from community.models import Discussion, DiscussionEvent
from community.moderation.selectors import AppealOffer, discussion_appeal_offers
from community.rules import branch_rules_list, commit_checks, merge_requirements_missing
from community.selectors import (
    community_filters_parse,
    community_listing,
    discussion_get,
    discussion_timeline,
    is_review,
    pull_request_changes,
    pull_request_line_notes,
    pull_request_merge_blocker,
    review_summary,
)
from community.services import branch_rules
from community.services import discussions as services
from frontend.forms import DiscussionNewForm
from frontend.markdown import LinkBase, markdown_render_cached
from frontend.pages import page_view
from hub.selectors import user_get_by_name
from hub.views import form_errors_from
from registry.access import Permission, check_can_read_files
from registry.errors import RepoDisabled
from registry.models import Repo
from registry.panels import PULL_REQUEST_SIDEBAR, panels
from registry.selectors.diffs import file_diff
from registry.selectors.pages import repo_ref_choices
from registry.views.common import MAX_DIFFED_FILES, _context, _repo, _url


def _require_login(request: HttpRequest) -> None:
    if not request.user.is_authenticated:
        raise Unauthenticated("Log in to take part in discussions.")


def _page_url(discussion: Discussion, suffix: str = "") -> str:
    return f"{discussion.repo.web_path}/discussions/{discussion.num}{suffix}"


# ---------------------------------------------------------------------------------- the list


@require_GET
@page_view
def community(request: HttpRequest, namespace: str, name: str, type_prefix: str | None = None) -> HttpResponse:
    """``…/discussions``: newest first, by kind, status and author, with counts and pages."""
    repo = _repo(request, type_prefix, namespace, name)
    filters = community_filters_parse(request.GET)
    listing = community_listing(repo=repo, filters=filters, page=request.GET.get("p") or 1)
    context = _context(request, repo, tab="community", listing=listing, community_open=listing.counts.open_total)
    return render(request, "community/community.html", context)


@require_http_methods(["GET", "POST"])
@page_view
def discussion_new(request: HttpRequest, namespace: str, name: str, type_prefix: str | None = None) -> HttpResponse:
    """Open a discussion, or (``?type=pull_request``) an empty draft pull request from a branch
    that commits are then pushed to."""
    repo = _repo(request, type_prefix, namespace, name)
    _require_login(request)
    pull_request = request.GET.get("type") == "pull_request"
    branches = [ref.name for ref in repo_ref_choices(repo=repo) if ref.kind == "branch"] if pull_request else []
    form = DiscussionNewForm(request.POST or None, branches=branches, initial={"target_branch": repo.default_branch})
    if request.method == "POST" and form.is_valid():
        values = form.cleaned_data
        try:
            discussion = services.discussion_create(
                repo=repo, user=request.user, title=values["title"], description=values["description"],
                pull_request=pull_request, target_branch=values.get("target_branch") or None,
            )  # fmt: skip
        except ValidationError as error:
            form_errors_from(form, error)
        else:
            return redirect(_page_url(discussion))
    context = _context(request, repo, tab="community", form=form, pull_request=pull_request)
    return render(request, "community/discussion_new.html", context, status=400 if form.errors else 200)


# ---------------------------------------------------------------------------- one discussion


@dataclass(frozen=True)
class FormError:
    """A refused submission: which form sent it, why, and what was typed."""

    form: str
    message: str
    text: str = ""


@dataclass(frozen=True)
class TimelineItem:
    """One event as the page shows it, with what the visitor may do to it."""

    event: DiscussionEvent
    html: SafeString | None  # a comment's rendered markdown
    has_math: bool
    has_mermaid: bool
    review: str  # "approved", "changes_requested" or ""
    can_edit: bool
    can_hide: bool
    status_action: str = ""  # what a status change did, in words
    edit_error: FormError | None = None  # a refused edit of this comment
    appeal: AppealOffer | None = None  # the author's appeal of hiding this comment


def _comment_links(repo: Repo) -> LinkBase:
    """Relative links in comments open the default branch's files, as on the repository page."""
    return LinkBase(
        page_prefix=_url(repo, "blob", repo.default_branch) + "/",
        file_prefix=_url(repo, "resolve", repo.default_branch) + "/",
    )


def _status_action(event: DiscussionEvent, *, closed_before: bool) -> str:
    """``open`` after a ``closed`` reopens; any other ``open`` publishes a draft pull request."""
    status = event.data.get("status")
    if status == DiscussionStatus.MERGED:
        return "merged this pull request"
    if status == DiscussionStatus.CLOSED:
        return "closed this"
    return "reopened this" if closed_before else "marked this pull request as ready for review"


def _timeline(
    events: list[DiscussionEvent], *, user_id, moderator: bool, links: LinkBase, error: FormError | None
) -> list[TimelineItem]:
    items, closed_before = [], False
    for event in events:
        item = _timeline_item(event, user_id=user_id, moderator=moderator, links=links)
        if event.type == DiscussionEventType.STATUS_CHANGE:
            item = replace(item, status_action=_status_action(event, closed_before=closed_before))
            closed_before = event.data.get("status") == DiscussionStatus.CLOSED
        if error is not None and error.form == f"edit-{event.pk}":
            item = replace(item, edit_error=error)
        items.append(item)
    return items


def _timeline_item(event: DiscussionEvent, *, user_id, moderator: bool, links: LinkBase) -> TimelineItem:
    html, has_math, has_mermaid = None, False, False
    is_comment = event.type == DiscussionEventType.COMMENT
    hidden = is_comment and event.data.get("hidden", False)
    content = event.data.get("content", "") if is_comment else ""
    # Hidden comments stay readable to moderators only (the service keeps their text for them).
    if content and (not hidden or moderator):
        content_id = hashlib.sha256(content.encode()).hexdigest()
        rendered = markdown_render_cached(content, links=links, content_id=content_id)
        html, has_math, has_mermaid = SafeString(rendered.html), rendered.has_math, rendered.has_mermaid
    mine = user_id is not None and event.author_id == user_id
    return TimelineItem(
        event=event, html=html, has_math=has_math, has_mermaid=has_mermaid,
        review=event.data["review"] if is_review(event) else "",
        can_edit=is_comment and not hidden and mine,
        can_hide=is_comment and not hidden and (mine or moderator),
    )  # fmt: skip


def _discussion_page(
    request: HttpRequest, repo: Repo, discussion: Discussion, *, error: FormError | None = None, status: int = 200
) -> HttpResponse:
    user = request.user
    user_id = user.pk if user.is_authenticated else None
    moderator = services.can_moderate(user=user, repo=repo)
    events = discussion_timeline(discussion=discussion)
    links = _comment_links(repo)
    items = _timeline(events, user_id=user_id, moderator=moderator, links=links, error=error)
    hidden_mine = [item.event.pk for item in items if item.event.data.get("hidden") and item.event.author_id == user_id]
    appeals = discussion_appeal_offers(user=user, discussion=discussion, comment_ids=hidden_mine)
    items = [replace(item, appeal=appeals.get(f"comment-{item.event.pk}")) for item in items]
    is_author = user_id is not None and discussion.author_id == user_id
    is_open = discussion.status in {DiscussionStatus.OPEN, DiscussionStatus.DRAFT}
    context = {
        "discussion": discussion,
        "items": items,
        "has_math": any(item.has_math for item in items),
        "has_mermaid": any(item.has_mermaid for item in items),
        # Everyone who took part, in order of their first event (deleted accounts are left out).
        "participants": list({event.author_id: event.author for event in events if event.author}.values()),
        "moderator": moderator,
        "can_manage": is_author or moderator,  # rename, close and reopen
        "is_open": is_open,
        "error": error,
        "discussion_appeal": appeals.get("discussion"),
    }
    if discussion.is_pull_request:
        files_readable = _files_readable(user, repo)
        changes = pull_request_changes(discussion=discussion, events=events) if files_readable else None
        context |= {
            "files_readable": files_readable,
            "changes": changes,
            "merge_blocker": _merge_blocker(discussion, changes, user) if changes else "",
            "checks": commit_checks(repo=repo, commit_oid=changes.head.oid) if changes else [],
            "reviews": review_summary(events),
            "can_review": moderator and not is_author and is_open,
            "can_push": is_open and (is_author or moderator),
            "panels": panels(PULL_REQUEST_SIDEBAR, request, discussion),
        }
    context = _context(request, repo, tab="community", can_write=moderator or _staff(user), **context)
    return render(request, "community/discussion.html", context, status=status)


def _merge_blocker(discussion: Discussion, changes, user) -> str:
    """Why the pull request cannot merge now: its state and files first, then its branch rule."""
    blocker = pull_request_merge_blocker(discussion=discussion, changes=changes)
    if blocker:
        return blocker
    missing = merge_requirements_missing(discussion=discussion, user=user)
    if not missing:
        return ""
    return f"The branch rule of {discussion.target_ref.removeprefix('refs/heads/')} needs {'; '.join(missing)}."


def _staff(user) -> bool:
    return bool(user.is_authenticated and user.is_staff)


def _files_readable(user, repo: Repo) -> bool:
    """Gated repositories show their discussions to all, their files (and diffs) to members only;
    disabled ones show their discussions without diffs."""
    try:
        check_can_read_files(user=user, repo=repo)
    except (PermissionDenied, RepoDisabled):
        return False
    return True


@require_GET
@page_view
def discussion_page(request: HttpRequest, namespace: str, name: str, num: int, type_prefix: str | None = None):
    repo = _repo(request, type_prefix, namespace, name)
    return _discussion_page(request, repo, discussion_get(repo=repo, num=int(num)))


@require_GET
@page_view
def pull_request_files(request: HttpRequest, namespace: str, name: str, num: int, type_prefix: str | None = None):
    """``…/discussions/{num}/files``: the line diffs of what the pull request changes."""
    repo = _repo(request, type_prefix, namespace, name)
    discussion = discussion_get(repo=repo, num=int(num))
    if not discussion.is_pull_request:
        raise NotFound(f"#{discussion.num} is a discussion: it changes no files.")
    check_can_read_files(user=request.user, repo=repo)
    changes = pull_request_changes(discussion=discussion)
    notes = pull_request_line_notes(discussion=discussion)
    diffs = [
        _noted(file_diff(change=change), notes.get(change.path, {})) for change in changes.changes[:MAX_DIFFED_FILES]
    ]
    user = request.user
    is_author = user.is_authenticated and discussion.author_id == user.pk
    moderator = services.can_moderate(user=user, repo=repo)
    can_push = discussion.status in {DiscussionStatus.OPEN, DiscussionStatus.DRAFT} and (is_author or moderator)
    context = _context(
        request, repo, tab="community", can_write=moderator or _staff(user),
        discussion=discussion, changes=changes, diffs=diffs, undiffed=changes.changes[MAX_DIFFED_FILES:],
        additions=sum(diff.additions for diff in diffs), deletions=sum(diff.deletions for diff in diffs),
        can_push=can_push, edit_rev=discussion.git_reference if can_push else "",
    )  # fmt: skip
    return render(request, "community/discussion_files.html", context)


# ---------------------------------------------------------------------------------- actions


def _action(view=None, *, form: str = ""):
    """A POST on one discussion: the visitor must be logged in and able to read the repository;
    a refused input (400, 409) re-renders the page with the message at the form that sent it —
    ``form``, formatted with the URL's arguments, else the view's name."""
    if view is None:
        return functools.partial(_action, form=form)

    @require_POST
    @page_view
    @functools.wraps(view)
    def wrapper(request: HttpRequest, namespace: str, name: str, num: int, type_prefix: str | None = None, **kwargs):
        repo = _repo(request, type_prefix, namespace, name)
        _require_login(request)
        discussion = discussion_get(repo=repo, num=int(num))
        try:
            return view(request, discussion, **kwargs)
        except (ValidationError, Conflict) as error:
            typed = request.POST.get("comment", request.POST.get("title", ""))
            failed = FormError(form=form.format(**kwargs) or view.__name__, message=error.message, text=typed)
            return _discussion_page(request, repo, discussion, error=failed, status=error.status)

    return wrapper


def _back(discussion: Discussion, event: DiscussionEvent | None = None) -> HttpResponse:
    return redirect(_page_url(discussion, f"#event-{event.pk}" if event is not None else ""))


@_action
def comment(request: HttpRequest, discussion: Discussion) -> HttpResponse:
    event = services.comment_add(discussion=discussion, user=request.user, content=request.POST.get("comment", ""))
    return _back(discussion, event)


@_action
def status(request: HttpRequest, discussion: Discussion) -> HttpResponse:
    """Close or reopen, with the comment typed beside the button; publishing a draft opens it."""
    new_status = request.POST.get("status", "")
    event = services.discussion_change_status(
        discussion=discussion, user=request.user, status=new_status, comment=request.POST.get("comment", "")
    )
    return _back(discussion, event)


@_action
def rename(request: HttpRequest, discussion: Discussion) -> HttpResponse:
    event = services.discussion_rename(discussion=discussion, user=request.user, title=request.POST.get("title", ""))
    return _back(discussion, event)


@_action
def review(request: HttpRequest, discussion: Discussion) -> HttpResponse:
    """A review, with at most one line comment from the page (the REST API takes many)."""
    line_comments = []
    path, body = request.POST.get("line_path", "").strip(), request.POST.get("line_body", "")
    if path or body.strip():
        number = request.POST.get("line_number", "").strip()
        if not number.isdigit() or len(number) > 8:
            raise ValidationError("A line comment needs the number of its line.", fields={"line_number": ["From 1."]})
        line_comments.append({"path": path, "line": int(number), "body": body})
    event = services.review_submit(
        discussion=discussion, user=request.user, state=request.POST.get("review", ""),
        comment=request.POST.get("comment", ""), line_comments=line_comments,
    )  # fmt: skip
    return _back(discussion, event)


@_action
def request_review(request: HttpRequest, discussion: Discussion) -> HttpResponse:
    """Ask the people named (user names, separated by commas or spaces) to review the pull request."""
    names = [name.lstrip("@") for name in request.POST.get("reviewers", "").replace(",", " ").split() if name][:20]
    try:
        reviewers = [user_get_by_name(name=name) for name in names]
    except NotFound as missing:
        raise ValidationError(missing.message, fields={"reviewers": [missing.message]}) from None
    services.review_request(discussion=discussion, user=request.user, reviewers=reviewers)
    messages.success(request, f"Review requested from {', '.join(r.username for r in reviewers)}.")
    return _back(discussion)


@_action
def merge(request: HttpRequest, discussion: Discussion) -> HttpResponse:
    outcome = services.pull_request_merge(discussion=discussion, user=request.user)
    branch = discussion.target_ref.removeprefix("refs/heads/")
    how = "by fast-forward" if outcome.fast_forward else f"with the merge commit {outcome.commit_oid[:7]}"
    messages.success(request, f"Pull request #{discussion.num} merged into {branch} {how}.")
    return _back(discussion)


def _comment_event(discussion: Discussion, event_id: str) -> DiscussionEvent:
    event = discussion.events.filter(pk=int(event_id), type=DiscussionEventType.COMMENT).first()
    if event is None:
        raise NotFound("Comment not found.")
    event.discussion = discussion
    return event


@_action(form="edit-{event_id}")
def comment_edit(request: HttpRequest, discussion: Discussion, event_id: str) -> HttpResponse:
    event = _comment_event(discussion, event_id)
    services.comment_edit(event=event, user=request.user, content=request.POST.get("comment", ""))
    return _back(discussion, event)


@_action
def comment_hide(request: HttpRequest, discussion: Discussion, event_id: str) -> HttpResponse:
    event = _comment_event(discussion, event_id)
    services.comment_hide(event=event, user=request.user)
    return _back(discussion, event)


@require_POST
@page_view
def convert(request: HttpRequest, namespace: str, name: str, type_prefix: str | None = None) -> HttpResponse:
    """Queue a conversion of the default branch's checkpoints to safetensors (writers)."""
    repo = _repo(request, type_prefix, namespace, name, need=Permission.WRITE)
    conversion = conversion_request(repo=repo, user=request.user, branch=repo.default_branch)
    conversion.refresh_from_db()
    if conversion.pull_request_num:
        messages.success(request, f"Converted: pull request #{conversion.pull_request_num} adds the safetensors files.")
    elif conversion.error:
        messages.error(request, f"The conversion failed: {conversion.error}")
    else:
        messages.success(request, "The conversion is queued: a pull request will carry the safetensors files.")
    return redirect(repo.web_path)


# ---------------------------------------------------------------------------------- line comments


@dataclass(frozen=True)
class NotedLine:
    """A diff line with the reviewers' comments on it (``_diffs.html`` shows them below it)."""

    kind: str
    old_number: int | None
    new_number: int | None
    text: str
    notes: tuple = ()


@dataclass(frozen=True)
class NotedDiff:
    """A file's diff whose lines carry their comments; ``unplaced``: comments on lines the diff
    does not show (outside its context), listed above it."""

    change: object
    lines: tuple
    additions: int
    deletions: int
    skipped: str
    truncated: bool
    unplaced: tuple


def _noted(diff, by_line: dict) -> NotedDiff:
    placed: set[int] = set()
    lines = []
    for line in diff.lines:
        number = line.new_number if line.kind != "hunk" else None
        notes = tuple(by_line.get(number, ())) if number is not None and number not in placed else ()
        if notes:
            placed.add(number)
        lines.append(NotedLine(line.kind, line.old_number, line.new_number, line.text, notes))
    unplaced = tuple(note for number, items in sorted(by_line.items()) if number not in placed for note in items)
    return NotedDiff(diff.change, tuple(lines), diff.additions, diff.deletions, diff.skipped, diff.truncated, unplaced)


# ---------------------------------------------------------------------------------- branch rules


def _names_field(text: str) -> list[str]:
    return [name.strip() for name in text.replace("\n", ",").split(",") if name.strip()]


@require_http_methods(["GET", "HEAD", "POST"])
@page_view
def branch_rules_page(request: HttpRequest, namespace: str, name: str, type_prefix: str | None = None):
    """``/{repo}/settings/branch-rules``: the repository's branch rules, a form to set one (a
    rule is replaced whole, as ``PUT …/branch-rules/{branch}`` does) and to remove one (admins)."""
    repo = _repo(request, type_prefix, namespace, name, need=Permission.ADMIN)
    if request.method == "POST":
        branch = request.POST.get("branch", "").strip()
        try:
            if request.POST.get("action") == "delete":
                branch_rules.branch_rule_delete(repo=repo, branch=branch, actor=request.user)
                messages.success(request, f"The rule of {branch} is removed.")
            else:
                approvals = request.POST.get("required_approvals", "0").strip() or "0"
                if not approvals.isdigit() or len(approvals) > 3:
                    raise ValidationError("Required approvals is a whole number.")
                branch_rules.branch_rule_set(
                    repo=repo, branch=branch, actor=request.user,
                    require_pull_request=request.POST.get("require_pull_request") == "on",
                    required_approvals=int(approvals),
                    required_checks=_names_field(request.POST.get("required_checks", "")),
                    code_owners=request.POST.get("code_owners") == "on",
                    dismiss_stale_approvals=request.POST.get("dismiss_stale_approvals") == "on",
                    bypass=_names_field(request.POST.get("bypass", "")),
                )  # fmt: skip
                messages.success(request, f"{branch} is protected by its rule.")
        except (ValidationError, NotFound) as error:
            messages.error(request, error.message)
        return redirect(f"{repo.web_path}/settings/branch-rules")
    context = _context(
        request, repo, tab="branch-rules", can_admin=True, rules=branch_rules_list(repo=repo),
        max_approvals=branch_rules.MAX_REQUIRED_APPROVALS,
    )  # fmt: skip
    return render(request, "community/branch_rules.html", context)
