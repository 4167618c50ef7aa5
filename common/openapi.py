"""The OpenAPI schema of the REST API (``/api/v1/schema/``), as drf-spectacular generates it with
three house conventions:

- nested ``InputSerializer``/``OutputSerializer`` classes are named after the view that holds
  them (``UserCreateApi.InputSerializer`` is the component ``UserCreateInput``), so the many
  serializers the style guide calls by the same name never share one component;
- every operation documents the error answers it can give, in the one error shape of
  :mod:`common.errors` (the ``Error`` component);
- list views paginate through the view's ``pagination_class`` (see ``common.pagination``).
"""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers
from rest_framework.permissions import AllowAny


class ErrorSerializer(serializers.Serializer):
    """The one error shape: a message, a machine code and, on validation errors, the fields."""

    error = serializers.CharField(help_text="What went wrong, for people.")
    code = serializers.CharField(help_text="What went wrong, for programs (invalid, not_found, conflict, …).")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="The messages of each invalid field (validation errors only).",
    )


ERROR_DESCRIPTIONS = {
    "400": "The request is invalid (the fields say which part).",
    "401": "Authentication is missing or the bearer token is invalid.",
    "403": "The caller may not do this (or the token is read-only).",
    "404": "Nothing by that name, nothing the caller may see, or a page past the last.",
    "409": "It conflicts with what exists (a name taken, a ref moved).",
    "412": "The parent commit given is no longer the head of the branch.",
    "429": "Too many requests; retry after the Retry-After header's seconds.",
}


class HubAutoSchema(AutoSchema):
    """drf-spectacular's schema with the conventions of this module's docstring. A view may add
    error statuses of its own with ``extra_error_statuses`` (e.g. ``("412",)``)."""

    def get_serializer_name(self, serializer, direction) -> str:
        cls = type(serializer)
        outer, _, inner = cls.__qualname__.rpartition(".")
        if not outer:
            return cls.__name__
        return outer.rsplit(".", 1)[-1].removesuffix("Api") + inner

    def _error_statuses(self) -> list[str]:
        statuses = ["400", "401", "429"]
        safe = self.method in {"GET", "HEAD", "OPTIONS"}
        public = all(isinstance(permission, AllowAny) for permission in self.view.get_permissions())
        if not (safe and public):
            statuses.append("403")
        # 404: a path naming something missing, a page past the last, a body naming a missing owner.
        paginated = getattr(self.view, "pagination_class", None) is not None and safe
        if "{" in self.path or paginated or not safe:
            statuses.append("404")
        if self.method in {"POST", "PUT", "PATCH"}:
            statuses.append("409")
        statuses += getattr(self.view, "extra_error_statuses", ())
        return sorted(statuses)

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction=direction)
        if direction != "response":
            return responses
        for status in self._error_statuses():
            if status not in responses:
                response = self._get_response_for_code(ErrorSerializer, status)
                responses[status] = {**response, "description": ERROR_DESCRIPTIONS[status]}
        return responses
