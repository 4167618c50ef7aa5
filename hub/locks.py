"""Row locks of the hub app (``select_for_update`` querysets). Take them inside a transaction."""

from __future__ import annotations

from django.db.models import QuerySet

from hub.models import Membership, Organization


def organization_lock(*, organization_id: int) -> Organization:
    """Lock one organization row; every membership change takes this lock first, so two admins
    leaving at once cannot both pass the last-admin check."""
    return Organization.objects.select_for_update().get(pk=organization_id)


def memberships_lock(*, organization_id: int) -> QuerySet[Membership]:
    return Membership.objects.select_for_update().filter(organization_id=organization_id)
