"""People: one namespace of names shared by users and organizations, memberships and API tokens."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from hub.choices import NamespaceKind, OrgRole, TokenRole


class Namespace(models.Model):
    """A name owning repositories: exactly one user or one organization.

    Names are unique case-insensitively across users and organizations alike, so ``/Alice`` and
    ``/alice`` can never be two different owners.
    """

    name = models.CharField(max_length=39)
    kind = models.CharField(max_length=8, choices=NamespaceKind.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(Lower("name"), name="namespace_name_ci_unique")]

    def __str__(self) -> str:
        return self.name


class HubUserManager(UserManager):
    """Keeps ``createsuperuser`` and other Django entry points inside the shared namespace rules."""

    def _create_user_object(self, username, email, password, **extra_fields):
        from hub.services.namespaces import namespace_create

        if "namespace" not in extra_fields:
            extra_fields["namespace"] = namespace_create(name=username, kind=NamespaceKind.USER)
        return super()._create_user_object(username, email, password, **extra_fields)


class User(AbstractUser):
    """A person. ``username`` always equals ``namespace.name``."""

    namespace = models.OneToOneField(Namespace, on_delete=models.PROTECT, related_name="user")
    fullname = models.CharField(max_length=100, blank=True)
    bio = models.TextField(max_length=2000, blank=True)
    homepage = models.URLField(blank=True)

    objects = HubUserManager()

    @property
    def display_name(self) -> str:
        return self.fullname or self.username


class Organization(models.Model):
    """A group of users who own repositories together, with roles."""

    namespace = models.OneToOneField(Namespace, on_delete=models.PROTECT, related_name="organization")
    fullname = models.CharField(max_length=100, blank=True)
    description = models.TextField(max_length=2000, blank=True)
    homepage = models.URLField(blank=True)
    created_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    members = models.ManyToManyField(User, through="Membership", related_name="organizations")

    def __str__(self) -> str:
        return self.namespace.name

    @property
    def name(self) -> str:
        return self.namespace.name

    @property
    def display_name(self) -> str:
        return self.fullname or self.name


class Membership(models.Model):
    """A user's role in an organization."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=8, choices=OrgRole.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "user"], name="membership_unique")]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.organization_id} as {self.role}"


class ApiToken(models.Model):
    """A bearer token for the REST and HF-compatible APIs.

    Only the sha256 of the secret is stored: tokens are 256-bit random strings, so a fast hash is
    enough, and the plaintext is shown once at creation.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=64)
    role = models.CharField(max_length=8, choices=TokenRole.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    # The first characters of the secret, shown in lists so a user can tell tokens apart.
    prefix = models.CharField(max_length=12)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "revoked_at"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @property
    def can_write(self) -> bool:
        return self.role == TokenRole.WRITE


class AppendOnlyError(Exception):
    """An attempt to change or remove an audit event."""


class AuditEventQuerySet(models.QuerySet):
    """Audit events are never changed or removed in bulk either."""

    def update(self, **kwargs):
        raise AppendOnlyError("The audit log is append-only.")

    def delete(self):
        raise AppendOnlyError("The audit log is append-only.")


class AuditEvent(models.Model):
    """One entry of the audit log: who (``actor``) did what (``action``) to which organization
    and/or repository, when and from where, with a small JSON of the values before and after.

    Append-only: ``save`` on a stored row and ``delete`` raise, and on PostgreSQL a trigger (migration
    0004) refuses UPDATE and DELETE. Nothing cascades into the log either: the actor and the
    organization are references without a database constraint (``DO_NOTHING``), the repository is
    its primary key without a foreign key (the hub sits below the registry), and the names at the
    time are kept in ``actor_name`` and ``target_repr``.
    """

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    actor_name = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=48, db_index=True)
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    repo_pk = models.BigIntegerField(null=True, blank=True, db_index=True)
    target_repr = models.CharField(max_length=200, blank=True)
    ip = models.CharField(max_length=45, blank=True)
    user_agent = models.CharField(max_length=256, blank=True)
    data = models.JSONField(default=dict, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organization", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.action} by {self.actor_name or '-'} on {self.target_repr or '-'}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("The audit log is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("The audit log is append-only.")
