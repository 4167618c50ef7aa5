"""Reads of the hub app."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.db.models.functions import Lower

from common.errors import NotFound, ValidationError
from hub.choices import NamespaceKind, OrgRole
from hub.models import ApiToken, AuditEvent, Membership, Namespace, Organization, User
from hub.permissions import OrgAction, check_role_allows, role_allows


def namespace_get(*, name: str) -> Namespace:
    """The user or organization namespace called ``name`` (case-insensitively)."""
    namespace = Namespace.objects.select_related("user", "organization").filter(name__iexact=name).first()
    if namespace is None:
        raise NotFound(f"No user or organization is called '{name}'.")
    return namespace


def user_get_by_name(*, name: str, include_suspended: bool = False) -> User:
    """The active user ``name`` (``include_suspended``: or a suspended one, for the moderators)."""
    users = User.objects.all() if include_suspended else User.objects.filter(is_active=True)
    user = users.filter(username__iexact=name).select_related("namespace").first()
    if user is None:
        raise NotFound(f"No user is called '{name}'.")
    return user


def organization_get_by_name(*, name: str) -> Organization:
    organization = Organization.objects.select_related("namespace").filter(namespace__name__iexact=name).first()
    if organization is None:
        raise NotFound(f"No organization is called '{name}'.")
    return organization


def membership_role(*, user: User | None, organization: Organization) -> OrgRole | None:
    """The role of ``user`` in ``organization``, or None for non-members and anonymous users."""
    if user is None or not user.is_authenticated:
        return None
    role = Membership.objects.filter(organization=organization, user=user).values_list("role", flat=True).first()
    return OrgRole(role) if role else None


def organization_members_list(*, organization: Organization) -> QuerySet[Membership]:
    return Membership.objects.filter(organization=organization).select_related("user").order_by("user__username")


def user_memberships_list(*, user: User) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(user=user)
        .select_related("organization__namespace")
        .order_by("organization__namespace__name")
    )


def token_list(*, user: User) -> QuerySet[ApiToken]:
    """The user's tokens that are still valid, newest first."""
    return ApiToken.objects.filter(user=user, revoked_at__isnull=True).order_by("-created_at", "-pk")


def namespace_search(*, query: str) -> QuerySet[Namespace]:
    """Active users and organizations whose name or full name contains every word of ``query``
    (any case), by name; each row carries its user or organization."""
    queryset = Namespace.objects.select_related("user", "organization").exclude(user__is_active=False)
    for word in query.split()[:16]:
        queryset = queryset.filter(
            Q(name__icontains=word) | Q(user__fullname__icontains=word) | Q(organization__fullname__icontains=word)
        )
    return queryset.order_by(Lower("name"))


AUDIT_ACTION_PATTERN = re.compile(r"^[a-z][a-z_]*(?:\.[a-z][a-z_]*)+$")
AUDIT_AREA = re.compile(r"^[a-z][a-z_]*$")
AUDIT_PAGE_SIZE = 50


@dataclass(frozen=True)
class AuditFilters:
    """Narrowing of an audit log: one action code (``repo.move``) or a whole area (``repo``), and
    the name of the actor."""

    action: str = ""
    actor: str = ""

    @classmethod
    def from_query(cls, query) -> AuditFilters:
        """From a page's or an API's query string; ``ValidationError`` for a malformed value."""
        action, actor = query.get("action", "").strip(), query.get("actor", "").strip()
        if action and (len(action) > 48 or not (AUDIT_ACTION_PATTERN.match(action) or AUDIT_AREA.match(action))):
            raise ValidationError("action must be an action code such as 'repo.move' or an area such as 'repo'.",
                                  fields={"action": ["Invalid action."]})  # fmt: skip
        if len(actor) > 150 or "\x00" in actor:
            raise ValidationError("actor must be a user name.", fields={"actor": ["Invalid user name."]})
        return cls(action=action.lower(), actor=actor)


def _audit_filtered(queryset: QuerySet[AuditEvent], filters: AuditFilters) -> QuerySet[AuditEvent]:
    if filters.action:
        if "." in filters.action:
            queryset = queryset.filter(action=filters.action)
        else:
            queryset = queryset.filter(action__startswith=filters.action + ".")
    if filters.actor:
        queryset = queryset.filter(actor_name__iexact=filters.actor)
    return queryset.order_by("-created_at", "-id")


def audit_log_of_organization(*, user, organization: Organization, filters: AuditFilters) -> QuerySet[AuditEvent]:
    """The events of ``organization`` (its settings, members, and its repositories), newest first;
    its admins and site staff only (``PermissionDenied`` for anyone else)."""
    if not (user is not None and user.is_authenticated and user.is_staff):
        check_role_allows(membership_role(user=user, organization=organization), OrgAction.MANAGE_MEMBERS)
    return _audit_filtered(AuditEvent.objects.filter(organization=organization), filters)


def audit_log_of_repo(*, repo_pk: int, filters: AuditFilters) -> QuerySet[AuditEvent]:
    """The events of one repository, newest first. The caller has checked that the reader is an
    admin of it (``registry.selectors.audit.repo_audit_log``)."""
    return _audit_filtered(AuditEvent.objects.filter(repo_pk=repo_pk), filters)


def audit_log_all(*, user, filters: AuditFilters) -> QuerySet[AuditEvent]:
    """Every event of the site, for site staff (``NotFound`` for anyone else: the page is not
    announced)."""
    if user is None or not user.is_authenticated or not user.is_staff:
        raise NotFound("Page not found.")
    return _audit_filtered(AuditEvent.objects.all(), filters)


def namespace_people(*, namespace: str, action: OrgAction) -> set[int]:
    """Ids of the user owning ``namespace``, or of the members of the organization whose role
    allows ``action`` (watchers of its repositories, readers of its private ones)."""
    owner = User.objects.filter(namespace__name__iexact=namespace, namespace__kind=NamespaceKind.USER)
    people = set(owner.values_list("pk", flat=True))
    members = Membership.objects.filter(organization__namespace__name__iexact=namespace).values_list("user_id", "role")
    return people | {user_id for user_id, role in members if role_allows(role, action)}
