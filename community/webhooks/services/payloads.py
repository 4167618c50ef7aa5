"""Domain events in the Hub's webhook payload shape (HF_PROTOCOL.md §7.5, ``WebhookPayload`` of
the huggingface_hub client, version 3): ``event {action, scope}``, ``repo``, ``discussion?``,
``comment?``, ``movedTo?``, ``updatedRefs?`` and, added per hook, ``webhook {id, version}``.

``repo`` carries the head commit both as ``headSha`` and as the client's ``head_sha``; its
``type`` is the repository's (``tutorial`` repositories are this hub's own, outside the Hub's list).
"""

from __future__ import annotations

from django.conf import settings

from common.events import Event, EventKind, RepoSnapshot
from community.webhooks.choices import WebhookDomain
from registry.choices import RepoType

PAYLOAD_VERSION = 3

# kind -> (action, scope, domain)
SCOPES: dict[EventKind, tuple[str, str, WebhookDomain]] = {
    EventKind.REPO_CREATED: ("create", "repo", WebhookDomain.REPO),
    EventKind.REPO_DELETED: ("delete", "repo", WebhookDomain.REPO),
    EventKind.REPO_MOVED: ("move", "repo", WebhookDomain.REPO),
    EventKind.REPO_CONFIG: ("update", "repo.config", WebhookDomain.REPO),
    EventKind.REPO_UPDATED: ("update", "repo.content", WebhookDomain.REPO),
    EventKind.DISCUSSION_OPENED: ("create", "discussion", WebhookDomain.DISCUSSION),
    EventKind.DISCUSSION_COMMENTED: ("create", "discussion.comment", WebhookDomain.DISCUSSION),
    EventKind.DISCUSSION_STATUS: ("update", "discussion", WebhookDomain.DISCUSSION),
    EventKind.REVIEW_SUBMITTED: ("create", "discussion.comment", WebhookDomain.DISCUSSION),
    # The hub's own scopes (the Hub has no checks or runs): a check reported on a commit, a run
    # that finished on the repository it trained or evaluated.
    EventKind.CHECK_REPORTED: ("update", "repo.check", WebhookDomain.REPO),
    EventKind.RUN_FINISHED: ("update", "repo.run", WebhookDomain.REPO),
}


def _site() -> str:
    return settings.HUB_SITE_URL.rstrip("/")


def repo_shape(repo: RepoSnapshot, *, repo_id: str | None = None) -> dict:
    repo_id = repo_id or repo.repo_id
    kind = RepoType(repo.type)
    body = {
        "id": str(repo.id), "type": repo.type, "name": repo_id, "private": repo.private,
        "owner": {"id": repo_id.split("/", 1)[0]},
        "url": {"web": f"{_site()}/{kind.url_prefix}{repo_id}", "api": f"{_site()}/api/{kind.api_plural}/{repo_id}"},
    }  # fmt: skip
    if repo.head_sha:
        body["headSha"] = body["head_sha"] = repo.head_sha
    return body


def event_payload(event: Event) -> dict | None:
    """The payload of ``event`` without its ``webhook`` part; None for events hooks do not carry."""
    if event.kind not in SCOPES or event.repo is None:
        return None
    action, scope, _domain = SCOPES[event.kind]
    repo = event.repo
    payload: dict = {"event": {"action": action, "scope": scope}}
    if event.kind == EventKind.REPO_MOVED:
        payload["repo"] = repo_shape(repo, repo_id=repo.former_id)
        payload["movedTo"] = {"name": repo.repo_id, "owner": {"id": repo.namespace}}
    else:
        payload["repo"] = repo_shape(repo)
    if event.kind == EventKind.REPO_UPDATED:
        payload["updatedRefs"] = [
            {"ref": event.data["ref"], "oldSha": event.data.get("old"), "newSha": event.data.get("new")}
        ]
    if event.kind == EventKind.CHECK_REPORTED:
        data = event.data
        payload["check"] = {
            "name": data.get("name"), "state": data.get("state"), "summary": data.get("summary", ""),
            "commit": data.get("commit"), "detailsUrl": data.get("details_url", ""),
        }  # fmt: skip
    if event.kind == EventKind.RUN_FINISHED:
        run_id = event.data.get("run_id")
        payload["run"] = {
            "id": str(run_id), "kind": event.data.get("kind"), "state": event.data.get("state"),
            "url": {"web": f"{_site()}/runs/{run_id}", "api": f"{_site()}/api/v1/runs/{run_id}"},
        }  # fmt: skip
    if event.discussion is not None:
        d = event.discussion
        web = f"{payload['repo']['url']['web']}/discussions/{d.num}"
        payload["discussion"] = {
            "id": str(d.id), "num": d.num, "title": d.title, "isPullRequest": d.is_pull_request, "status": d.status,
            "author": {"id": str(d.author_id or "")},
            "url": {"web": web, "api": f"{payload['repo']['url']['api']}/discussions/{d.num}"},
        }  # fmt: skip
        if event.data.get("comment_id"):
            payload["comment"] = {
                "id": str(event.data["comment_id"]), "author": {"id": str(event.actor_id or "")}, "hidden": False,
                "content": event.data.get("content", ""), "url": {"web": f"{web}#{event.data['comment_id']}"},
            }  # fmt: skip
    return payload


def event_domain(event: Event) -> WebhookDomain | None:
    return SCOPES[event.kind][2] if event.kind in SCOPES else None
