"""Branches and tags. Refs move only by compare-and-swap inside the caller's transaction."""

from __future__ import annotations

import re

from django.db import IntegrityError, transaction

from common.errors import Conflict, PreconditionFailed, ValidationError
from registry.errors import RevisionNotFound
from registry.events import ref_moved
from registry.hooks import RefAction, ref_guards_check
from registry.models import Ref, Repo
from registry.selectors.revisions import revision_resolve

_FORBIDDEN = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]|\.\.|//|@\{|\.lock(/|$)|/\.|^\.|[/.]$")


def ref_name_validate(name: str, *, kind: str) -> str:
    """Check a branch or tag name against git's ref-name rules."""
    if not name or len(name) > 200 or name == "@" or _FORBIDDEN.search(name) or name.startswith("refs/"):
        raise ValidationError(
            f"Invalid {kind} name '{name}': use letters, digits, '-', '_', '.' and '/', without spaces or '..'.",
            fields={kind: ["Invalid name."]},
        )
    return name


def ref_compare_and_swap(*, repo: Repo, name: str, expected: str | None, new: str | None) -> None:
    """Move ``name`` from ``expected`` to ``new`` atomically (None means absent).

    Raises ``PreconditionFailed`` if the ref no longer points at ``expected``: someone else moved
    it first and nothing was changed. Takes no lock: the conditional UPDATE is the lock. Emits
    ``repo.updated`` (``common.events``) for the move once the transaction commits.
    """
    if expected is None:
        try:
            with transaction.atomic():
                Ref.objects.create(repo=repo, name=name, target_oid=new)
        except IntegrityError:
            raise PreconditionFailed(f"{name} was created concurrently; retry.") from None
    else:
        rows = Ref.objects.filter(repo=repo, name=name, target_oid=expected)
        changed = rows.delete()[0] if new is None else rows.update(target_oid=new)
        if changed != 1:
            raise PreconditionFailed(f"{name} moved since {expected[:7]}; fetch the new head and retry.")
    ref_moved(repo=repo, name=name, old=expected, new=new)


def branch_create(*, repo: Repo, branch: str, starting_point: str | None = None) -> Ref:
    """Create ``refs/heads/<branch>`` at ``starting_point`` (default: the default branch)."""
    branch = ref_name_validate(branch, kind="branch")
    target = revision_resolve(repo=repo, revision=starting_point or repo.default_branch).oid
    name = f"refs/heads/{branch}"
    try:
        with transaction.atomic():
            ref = Ref.objects.create(repo=repo, name=name, target_oid=target)
    except IntegrityError:
        raise Conflict(f"Reference {name} already exists") from None
    ref_moved(repo=repo, name=name, old=None, new=target)
    return ref


def branch_delete(*, repo: Repo, branch: str, user=None) -> None:
    """Delete ``refs/heads/<branch>`` (not the default branch, nor one a guard protects)."""
    if branch == repo.default_branch:
        raise ValidationError(f"Cannot delete refs/heads/{branch}: it is the default branch.")
    ref_guards_check(repo=repo, user=user, ref=f"refs/heads/{branch}", action=RefAction.DELETE)
    ref = Ref.objects.filter(repo=repo, name=f"refs/heads/{branch}").first()
    if ref is None or Ref.objects.filter(pk=ref.pk).delete()[0] == 0:
        raise ValidationError(f"Invalid rev id: {branch}")  # the Hub answers 400 with these words
    ref_moved(repo=repo, name=ref.name, old=ref.target_oid, new=None)


def tag_create(*, repo: Repo, tag: str, revision: str, message: str = "") -> Ref:
    """Tag the commit ``revision`` resolves to (a branch, a tag, a short id, ``refs/pr/N``).

    The revision is resolved before the name is checked, as on the Hub: a missing revision is
    ``RevisionNotFound`` whatever the tag is called."""
    target = revision_resolve(repo=repo, revision=revision).oid
    tag = ref_name_validate(tag, kind="tag")
    name = f"refs/tags/{tag}"
    try:
        with transaction.atomic():
            ref = Ref.objects.create(repo=repo, name=name, target_oid=target)
    except IntegrityError:
        raise Conflict(f"Tag {tag} already exists") from None
    ref_moved(repo=repo, name=name, old=None, new=target)
    return ref


def tag_delete(*, repo: Repo, tag: str) -> None:
    ref = Ref.objects.filter(repo=repo, name=f"refs/tags/{tag}").first()
    if ref is None or Ref.objects.filter(pk=ref.pk).delete()[0] == 0:
        raise RevisionNotFound(f"Tag '{tag}' not found.")
    ref_moved(repo=repo, name=ref.name, old=ref.target_oid, new=None)
