"""Accounts: sign-up, profile and password changes."""

from __future__ import annotations

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator, validate_email
from django.db import transaction

from common.errors import ValidationError
from hub.choices import NamespaceKind
from hub.models import User
from hub.services.namespaces import namespace_create


def _check_password(*, password: str, user: User | None, field: str) -> None:
    try:
        password_validation.validate_password(password, user=user)
    except DjangoValidationError as exc:
        raise ValidationError(exc.messages[0], fields={field: list(exc.messages)}) from None


def user_create(*, username: str, email: str, password: str, fullname: str = "") -> User:
    """Create a user and claim their name in the shared namespace, atomically."""
    email = email.strip()
    try:
        validate_email(email)
    except DjangoValidationError:
        raise ValidationError(
            "Enter a valid email address.", fields={"email": ["Enter a valid email address."]}
        ) from None
    with transaction.atomic():
        namespace = namespace_create(name=username, kind=NamespaceKind.USER)
        user = User(username=namespace.name, email=email, fullname=fullname.strip()[:100], namespace=namespace)
        _check_password(password=password, user=user, field="password")
        user.set_password(password)
        user.save()
    return user


def user_update_profile(*, user: User, fullname: str, bio: str, homepage: str, email: str) -> User:
    """Change the editable profile fields of ``user``."""
    try:
        validate_email(email.strip())
    except DjangoValidationError:
        raise ValidationError(
            "Enter a valid email address.", fields={"email": ["Enter a valid email address."]}
        ) from None
    if homepage.strip():
        try:
            URLValidator(schemes=["http", "https"])(homepage.strip())
        except DjangoValidationError:
            raise ValidationError(
                "Enter a valid http(s) URL.", fields={"homepage": ["Enter a valid http(s) URL."]}
            ) from None
    user.fullname = fullname.strip()[:100]
    user.bio = bio.strip()[:2000]
    user.homepage = homepage.strip()
    user.email = email.strip()
    user.save(update_fields=["fullname", "bio", "homepage", "email"])
    return user


def user_change_password(*, user: User, old_password: str, new_password: str) -> None:
    """Replace the password after checking the current one."""
    if not user.check_password(old_password):
        raise ValidationError(
            "The current password is incorrect.", fields={"old_password": ["The current password is incorrect."]}
        )
    _check_password(password=new_password, user=user, field="new_password")
    user.set_password(new_password)
    user.save(update_fields=["password"])
