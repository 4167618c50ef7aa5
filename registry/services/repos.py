"""Repositories: create, update settings, move, delete."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from common.errors import PermissionDenied, ValidationError
from common.events import EventKind
from hub.choices import AuditAction, NamespaceKind
from hub.models import Membership, Namespace
from hub.permissions import OrgAction, role_allows
from registry.audit import repo_audit_record, repo_repr
from registry.choices import GatedMode, RepoType
from registry.errors import RepoExists
from registry.events import repo_event
from registry.git.attributes import default_gitattributes
from registry.models import Ref, Repo, RepoRedirect
from registry.packcache import pack_cache_purge
from registry.services.commits import initial_commit_create
from registry.services.metadata import repo_index_name
from registry.storage import stage_bytes


def repo_name_validate(name: str) -> str:
    """A repository name by the huggingface_hub client's own repo-id rules (HF_PROTOCOL.md §4):
    1–96 ASCII characters of [A-Za-z0-9_.-], starting and ending with a word character, no "--"
    or "..", no ".git" suffix — checked by the client's validator, so the hub accepts exactly the
    names the client sends."""
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    try:
        if not isinstance(name, str) or "/" in name or not name.isascii():
            raise HFValidationError(name)
        validate_repo_id(name)
    except HFValidationError:
        raise ValidationError(
            f"Invalid repository name '{name}': use 1 to 96 letters, digits, '-', '_' or '.', starting and ending "
            "with a letter, digit or '_', without '--' or '..'.",
            fields={"name": ["Invalid repository name."]},
        ) from None
    return name


def check_can_create_in(*, user, namespace: Namespace) -> None:
    """Users create in their own namespace; organization members with the write role in theirs."""
    if namespace.kind == NamespaceKind.USER:
        if namespace.user.pk != user.pk:
            raise PermissionDenied(f"You cannot create repositories under {namespace.name}.")
        return
    role = (
        Membership.objects.filter(organization__namespace=namespace, user=user).values_list("role", flat=True).first()
    )
    if not role_allows(role, OrgAction.CREATE_REPO):
        raise PermissionDenied(f"You need the 'write' role in {namespace.name} to create repositories there.")


def repo_create(*, user, namespace: Namespace, name: str, repo_type: RepoType, private: bool = False) -> Repo:
    """Create a repository with an initial commit holding the default ``.gitattributes``.

    Raises ``RepoExists`` (409) if the namespace already has a repository of that type and name
    (case-insensitively).
    """
    name = repo_name_validate(name)
    check_can_create_in(user=user, namespace=namespace)
    exists = RepoExists(f"You already created this {repo_type.label.lower()} repo: {namespace.name}/{name}")
    if Repo.objects.filter(namespace=namespace, type=repo_type, name__iexact=name).exists():
        raise exists
    staged = {".gitattributes": stage_bytes(default_gitattributes())}
    try:
        with transaction.atomic():
            repo = Repo.objects.create(
                namespace=namespace, name=name, type=repo_type, private=private, created_by=user,
                search_document=f"{namespace.name}\n{name}\n",
            )  # fmt: skip
            RepoRedirect.objects.filter(type=repo_type, namespace__iexact=namespace.name, name__iexact=name).delete()
            commit = initial_commit_create(repo=repo, user=user, files=staged)
            Ref.objects.create(repo=repo, name=f"refs/heads/{repo.default_branch}", target_oid=commit.oid)
            repo_audit_record(actor=user, action=AuditAction.REPO_CREATE, repo=repo, data={"private": private})
            repo_event(kind=EventKind.REPO_CREATED, repo=repo, actor=user, head_sha=commit.oid)
    except IntegrityError:
        raise exists from None
    finally:
        for item in staged.values():
            item.discard()
    return repo


def repo_update_settings(
    *, repo: Repo, private: bool | None = None, gated: str | bool | None = None, actor=None
) -> Repo:
    """Change visibility and gating. ``gated`` is ``"auto"``, ``"manual"`` or ``False``. Each
    actual change is recorded in the audit log as done by ``actor``, and emits ``repo.config``."""
    changes: list[tuple[AuditAction, str, object, object]] = []
    if private is not None and bool(private) != repo.private:
        changes.append((AuditAction.REPO_VISIBILITY, "private", repo.private, bool(private)))
    if gated is not None:
        value = "" if gated is False or gated == "false" else gated
        if value not in GatedMode.values:
            raise ValidationError("gated must be 'auto', 'manual' or false.", fields={"gated": ["Invalid value."]})
        if value != repo.gated:
            changes.append((AuditAction.REPO_GATING, "gated", repo.gated or False, value or False))
        repo.gated = value
    if private is not None:
        repo.private = bool(private)
    if changes:
        with transaction.atomic():
            repo.save(update_fields=[field for _action, field, _before, _after in changes])
            for action, field, before, after in changes:
                repo_audit_record(
                    actor=actor, action=action, repo=repo, data={"before": {field: before}, "after": {field: after}}
                )
            repo_event(kind=EventKind.REPO_CONFIG, repo=repo, actor=actor, private=repo.private, gated=repo.gated)
    return repo


def repo_move(*, repo: Repo, user, to_namespace: Namespace, to_name: str) -> Repo:
    """Rename and/or transfer ``repo``; the caller must be allowed to create in the destination.

    The former id redirects to the new one (``RepoRedirect``) until a repository takes it.
    """
    to_name = repo_name_validate(to_name)
    if to_namespace.pk != repo.namespace_id:
        check_can_create_in(user=user, namespace=to_namespace)
    # The Hub's wording, which clients match on.
    exists = RepoExists(
        f"A {repo.repo_type.label.lower()} repository called {to_namespace.name}/{to_name} already exists."
    )
    clash = Repo.objects.filter(namespace=to_namespace, type=repo.type, name__iexact=to_name).exclude(pk=repo.pk)
    if clash.exists():
        raise exists
    former = (repo.namespace.name, repo.name)
    former_repr = repo_repr(repo)
    repo.namespace = to_namespace
    repo.name = to_name
    try:
        with transaction.atomic():
            repo.save(update_fields=["namespace", "name"])
            repo_index_name(repo=repo)
            same_type = RepoRedirect.objects.filter(type=repo.type)
            same_type.filter(namespace__iexact=to_namespace.name, name__iexact=to_name).delete()
            if (former[0].lower(), former[1].lower()) != (to_namespace.name.lower(), to_name.lower()):
                same_type.filter(namespace__iexact=former[0], name__iexact=former[1]).delete()
                RepoRedirect.objects.create(repo=repo, type=repo.type, namespace=former[0], name=former[1])
            if former_repr != repo_repr(repo):
                repo_audit_record(
                    actor=user, action=AuditAction.REPO_MOVE, repo=repo,
                    data={"before": {"repo": "/".join(former)}, "after": {"repo": repo.repo_id}},
                )  # fmt: skip
            repo_event(kind=EventKind.REPO_MOVED, repo=repo, actor=user, former_id=f"{former[0]}/{former[1]}")
    except IntegrityError:
        raise exists from None
    return repo


def repo_delete(*, repo: Repo, actor=None) -> None:
    """Delete the repository, its history and refs. Blobs stay until no repository uses them.
    The audit log keeps the event (by ``actor``) and the repository's name; emits ``repo.deleted``
    with the repository as it was."""
    pk = repo.pk
    with transaction.atomic():
        repo_audit_record(actor=actor, action=AuditAction.REPO_DELETE, repo=repo, data={"private": repo.private})
        repo_event(kind=EventKind.REPO_DELETED, repo=repo, actor=actor)
        repo.delete()
    transaction.on_commit(lambda: pack_cache_purge(repo_pk=pk))
