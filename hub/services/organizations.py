"""Organizations and their members.

Every membership change locks the organization row (``hub.locks.organization_lock``) first.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction

from common.errors import Conflict, NotFound, ValidationError
from hub.choices import AuditAction, NamespaceKind, OrgRole
from hub.locks import organization_lock
from hub.models import Membership, Organization, User
from hub.permissions import OrgAction, check_role_allows
from hub.selectors import membership_role, user_get_by_name
from hub.services.audit import record
from hub.services.namespaces import namespace_create


def _role(role: str) -> OrgRole:
    try:
        return OrgRole(role)
    except ValueError:
        allowed = ", ".join(OrgRole.values)
        raise ValidationError(
            f"Role must be one of {allowed}.", fields={"role": [f"Choose one of {allowed}."]}
        ) from None


def organization_create(*, creator: User, name: str, fullname: str = "", description: str = "") -> Organization:
    """Create an organization whose first admin is ``creator``."""
    with transaction.atomic():
        namespace = namespace_create(name=name, kind=NamespaceKind.ORGANIZATION)
        organization = Organization.objects.create(
            namespace=namespace,
            fullname=fullname.strip()[:100],
            description=description.strip()[:2000],
            created_by=creator,
        )
        Membership.objects.create(organization=organization, user=creator, role=OrgRole.ADMIN)
        record(actor=creator, action=AuditAction.ORG_CREATE, org=organization, target_repr=organization.name)
    return organization


def organization_update(*, actor: User, organization: Organization, fullname: str, description: str) -> Organization:
    check_role_allows(membership_role(user=actor, organization=organization), OrgAction.EDIT_PROFILE)
    before = {"fullname": organization.fullname, "description": organization.description}
    organization.fullname = fullname.strip()[:100]
    organization.description = description.strip()[:2000]
    after = {"fullname": organization.fullname, "description": organization.description}
    with transaction.atomic():
        organization.save(update_fields=["fullname", "description"])
        changed = {key for key in after if before[key] != after[key]}
        if changed:
            record(
                actor=actor, action=AuditAction.ORG_UPDATE, org=organization, target_repr=organization.name,
                data={"before": {k: before[k] for k in changed}, "after": {k: after[k] for k in changed}},
            )  # fmt: skip
    return organization


def membership_add(*, actor: User, organization: Organization, username: str, role: str) -> Membership:
    """Add ``username`` to the organization with ``role``; only admins may."""
    role = _role(role)
    with transaction.atomic():
        organization_lock(organization_id=organization.pk)
        check_role_allows(membership_role(user=actor, organization=organization), OrgAction.MANAGE_MEMBERS)
        user = user_get_by_name(name=username)
        if Membership.objects.filter(organization=organization, user=user).exists():
            raise Conflict(f"{user.username} is already a member of {organization.name}.")
        try:
            with transaction.atomic():
                membership = Membership.objects.create(organization=organization, user=user, role=role)
        except IntegrityError:
            raise Conflict(f"{user.username} is already a member of {organization.name}.") from None
        _record_member(actor, AuditAction.MEMBER_ADD, membership, {"after": {"role": role.value}})
        return membership


def _record_member(actor: User, action: AuditAction, membership: Membership, data: dict) -> None:
    organization = membership.organization
    record(
        actor=actor, action=action, org=organization, target_repr=f"{organization.name}: {membership.user.username}",
        data={"member": membership.user.username, **data},
    )  # fmt: skip


def _check_keeps_an_admin(*, organization: Organization, membership: Membership, new_role: OrgRole | None) -> None:
    if membership.role != OrgRole.ADMIN or new_role == OrgRole.ADMIN:
        return
    admins = Membership.objects.filter(organization=organization, role=OrgRole.ADMIN).count()
    if admins <= 1:
        raise ValidationError(
            f"{membership.user.username} is the last admin of {organization.name}; make someone else an admin first."
        )


def _membership_get(*, organization: Organization, username: str) -> Membership:
    membership = (
        Membership.objects.select_related("user")
        .filter(organization=organization, user__username__iexact=username)
        .first()
    )
    if membership is None:
        raise NotFound(f"{username} is not a member of {organization.name}.")
    return membership


def membership_change_role(*, actor: User, organization: Organization, username: str, role: str) -> Membership:
    """Give a member another role; the organization always keeps one admin."""
    role = _role(role)
    with transaction.atomic():
        organization_lock(organization_id=organization.pk)
        check_role_allows(membership_role(user=actor, organization=organization), OrgAction.MANAGE_MEMBERS)
        membership = _membership_get(organization=organization, username=username)
        _check_keeps_an_admin(organization=organization, membership=membership, new_role=role)
        before = membership.role
        membership.role = role
        membership.save(update_fields=["role"])
        if before != role:
            _record_member(
                actor, AuditAction.MEMBER_ROLE, membership, {"before": {"role": before}, "after": {"role": role.value}}
            )
        return membership


def membership_remove(*, actor: User, organization: Organization, username: str) -> None:
    """Remove a member (admins only); the last admin cannot be removed."""
    with transaction.atomic():
        organization_lock(organization_id=organization.pk)
        check_role_allows(membership_role(user=actor, organization=organization), OrgAction.MANAGE_MEMBERS)
        membership = _membership_get(organization=organization, username=username)
        _check_keeps_an_admin(organization=organization, membership=membership, new_role=None)
        _record_member(actor, AuditAction.MEMBER_REMOVE, membership, {"before": {"role": membership.role}})
        membership.delete()


def organization_leave(*, user: User, organization: Organization) -> None:
    """``user`` leaves the organization; the last admin cannot leave."""
    with transaction.atomic():
        organization_lock(organization_id=organization.pk)
        membership = _membership_get(organization=organization, username=user.username)
        _check_keeps_an_admin(organization=organization, membership=membership, new_role=None)
        _record_member(user, AuditAction.MEMBER_LEAVE, membership, {"before": {"role": membership.role}})
        membership.delete()
