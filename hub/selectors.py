"""Reads of the hub app."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.db.models.functions import Lower

from common.errors import NotFound
from hub.choices import OrgRole
from hub.models import ApiToken, Membership, Namespace, Organization, User


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
