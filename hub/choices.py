"""Enumerations of the hub app."""

from django.db import models


class NamespaceKind(models.TextChoices):
    USER = "user", "User"
    ORGANIZATION = "org", "Organization"


class OrgRole(models.TextChoices):
    """Roles inside an organization, from the most to the least powerful."""

    ADMIN = "admin", "Admin"
    WRITE = "write", "Write"
    READ = "read", "Read"

    @property
    def rank(self) -> int:
        return {"admin": 3, "write": 2, "read": 1}[self.value]


class TokenRole(models.TextChoices):
    READ = "read", "Read"
    WRITE = "write", "Write"
