"""The audit log: ``record`` appends one event (``hub.models.AuditEvent``) for a change to an
organization or a repository. Services call it inside their own transaction, so an event exists
exactly when the change it describes was committed.

Where the change came from (client address, user agent) is read from ``request`` when the caller
has one, otherwise from the request being served (``hub.middleware.AuditRequestMiddleware`` keeps
it), so a service called by any face records it without each face passing it down; a change made
outside any request (a task, a management command) records none.
"""

from __future__ import annotations

import contextvars
import json
import re

from django.http import HttpRequest

from common.throttling import client_ip
from hub.choices import AuditAction
from hub.models import AuditEvent, Organization, User

MAX_USER_AGENT = 256
MAX_REPR = 200
# Before/after values are a summary, not a copy of the object: bounded so a log row stays small.
MAX_DATA_BYTES = 4096
_ACTION = re.compile(r"^[a-z][a-z_]*(?:\.[a-z][a-z_]*)+$")

current_request: contextvars.ContextVar[HttpRequest | None] = contextvars.ContextVar(
    "audit_current_request", default=None
)


def _bounded(data: dict | None) -> dict:
    data = dict(data or {})
    encoded = json.dumps(data, default=str, sort_keys=True)
    if len(encoded.encode()) <= MAX_DATA_BYTES:
        return json.loads(encoded)
    return {"truncated": encoded[: MAX_DATA_BYTES // 2]}


def record(
    *,
    actor: User | None,
    action: AuditAction | str,
    org: Organization | None = None,
    repo_id: int | None = None,
    target_repr: str = "",
    data: dict | None = None,
    request: HttpRequest | None = None,
) -> AuditEvent:
    """Append one event: ``actor`` did ``action`` (``<area>.<verb>``, see ``AuditAction``) to
    ``org`` and/or the repository whose primary key is ``repo_id``, described by ``target_repr``,
    with ``data`` (a small JSON object, typically ``{"before": …, "after": …}``)."""
    action = str(action)
    if not _ACTION.match(action) or len(action) > 48:
        raise ValueError(f"Audit action codes look like 'area.verb', not {action!r}.")
    request = request if request is not None else current_request.get()
    ip = user_agent = ""
    if request is not None:
        ip = client_ip(request)[:45]
        user_agent = request.META.get("HTTP_USER_AGENT", "")[:MAX_USER_AGENT]
    known = actor is not None and getattr(actor, "is_authenticated", False)
    return AuditEvent.objects.create(
        actor=actor if known else None,
        actor_name=actor.username if known else "",
        action=action,
        organization=org,
        repo_pk=repo_id,
        target_repr=target_repr[:MAX_REPR],
        ip=ip,
        user_agent=user_agent,
        data=_bounded(data),
    )
