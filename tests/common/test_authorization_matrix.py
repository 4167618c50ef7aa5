"""The authorization matrix: every repository-scoped route of the URL configuration (HF API, REST,
resolve, pages, git, Xet, inference — found by ``tests/support/routes.py``, so a new route is
covered the day it is added) × who asks × what kind of repository, one request a cell.

What no cell may do:
- a repository the caller may not see answers 404, exactly as a missing one (never 403 or 200);
  an anonymous caller may instead get the answer a missing repository gives it (git's 401, a
  page's log-in redirect), which tells nothing either;
- a gated repository serves its metadata to everyone but its files only to members and
  approved people (401/403 for the rest); a disabled one serves its files to nobody (451);
- writes are refused to those without the role the route needs (403, 401 or the log-in page);
- a member reads a private repository exactly as a public one (the same answer).

Allowed writes are not sent (the matrix is about refusals; the services' tests cover writes);
every request runs in a savepoint rolled back after it, so cells never see each other's effects.

To add a kind of repository (a "disabled" state), add one line to ``VISIBILITIES``: how to put a
repository in that state, who sees it, who reads its files, whose writes are still judged by role.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.db import transaction
from django.test import Client

from community.services.discussions import discussion_create
from registry.services.repos import repo_set_disabled, repo_update_settings
from tests.frontend.builders import commit_files, make_repo
from tests.support.factories import make_org, make_token, make_user
from tests.support.routes import Route, all_routes

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "reader", "writer", "admin", "other")
MEMBERS = frozenset({"reader", "writer", "admin"})
EVERYONE = frozenset(ROLES)
POWER = {"anonymous": 0, "other": 1, "reader": 2, "writer": 3, "admin": 4}


@dataclass(frozen=True)
class Visibility:
    apply: Callable  # (repo) -> None: puts the repository in this state
    sees: frozenset[str]  # who may see it at all (everyone else gets a 404)
    reads_files: frozenset[str]  # who may fetch its files
    gated: bool = False  # whether the access-request routes apply
    writes: frozenset[str] = EVERYONE  # whose writes are judged by their role (the rest are refused)


VISIBILITIES = {
    "public": Visibility(lambda repo: None, EVERYONE, EVERYONE),
    "private": Visibility(lambda repo: repo_update_settings(repo=repo, private=True), MEMBERS, MEMBERS),
    "gated": Visibility(lambda repo: repo_update_settings(repo=repo, gated="manual"), EVERYONE, MEMBERS, gated=True),
    # Disabled by the moderators: its page says why, its files are refused to everyone (451).
    "disabled": Visibility(
        lambda repo: repo_set_disabled(repo=repo, disabled=True, reason="malware"), EVERYONE, frozenset()
    ),
}

# What each unsafe route needs, by route name or view label: "admin", "write", "user" (anyone
# signed in who sees the repository: likes, discussions, access requests, proposals that become
# pull requests) or "read" (a read over POST). A route missing here fails the test: classify it.
NEEDS = {
    "api-repo": "admin",
    "api-repo-move": "admin",
    "api-repo-branch": "write",
    "api-repo-tag": "write",
    "api-repo-commits": "user",  # create_pr=true: a proposal, open to anyone who sees the repository
    "api-repo-like": "user",
    "api-repo-access-requests": "user",
    "api-repo-access-request": "admin",
    "hf-repo-settings": "admin",
    "hf-repo-delete": "admin",
    "hf-repo-move": "admin",
    "hf-repo-like": "user",
    "registry.hf.access_requests.access_request_handle": "admin",
    "registry.hf.access_requests.access_request_grant": "admin",
    "hf-repo-branch": "write",
    "hf-repo-tag": "write",
    "hf-preupload": "user",
    "hf-commit": "write",
    "hf-paths-info": "read",
    "hf-super-squash": "write",
    "hf-lfs-files-batch": "admin",
    "hf-discussions": "user",
    "api-repo-release": "admin",
    "repo-release": "admin",
    "api-repo-conversions": "write",
    "repo-convert": "write",
    "repo-review-request": "user",
    "api-repo-branch-rule": "admin",
    "repo-branch-rules": "admin",
    "api-commit-checks": "write",
    "api-pull-request-reviews": "user",
    "api-pull-request-merge": "write",
    "community.hf.discussions.discussion_comment": "user",
    "community.hf.discussions.discussion_status": "user",
    "community.hf.discussions.discussion_title": "user",
    "community.hf.discussions.discussion_merge": "write",
    "community.hf.discussions.comment_edit": "user",
    "community.hf.discussions.comment_hide": "user",
    "lfs-batch": "read",
    "registry.githttp.views.lfs_locks": "write",
    "git-upload-pack": "read",
    # Readers may push to their pull requests (refs/pr/N): the push service refuses other refs
    # one by one in git's report-status (tests/registry/git_http/test_push.py).
    "git-receive-pack": "user",
    "inference-generate": "read",
    "inference-fill-mask": "read",
    "inference-classify": "read",
    "inference-embed": "read",
    "repo-playground-toggle": "admin",
    "repo-edit": "user",
    "repo-upload": "user",
    "repo-upload-parts": "user",
    "repo-like": "user",
    "repo-ask-access": "user",
    "repo-access-requests": "admin",
    "repo-discussion-new": "user",
    "repo-discussion-comment": "user",
    "repo-discussion-status": "user",
    "repo-discussion-title": "user",
    "repo-discussion-review": "user",
    "repo-discussion-merge": "write",
    "repo-comment-edit": "user",
    "repo-comment-hide": "user",
}
NEED_POWER = {"read": 0, "user": 1, "write": 3, "admin": 4}
# Routes that hand out a file's contents (or run the model on them): refused on a gated repository
# to people who were not approved.
CONTENT_ROUTES = {
    "resolve",
    "repo-raw",
    "repo-blob",
    "repo-edit",
    "repo-commit",
    "repo-pull-request-files",
    "lfs-batch",
    "git-info-refs",
    "git-upload-pack",
    "xet-read-token",
    "hf-auth-check",
    "inference-generate",
    "inference-fill-mask",
    "inference-classify",
    "inference-embed",
}
# Reads whose answer is for admins only (the review of access requests, the audit log, LFS files).
ADMIN_READS = {
    "api-repo-access-requests",
    "repo-access-requests",
    "hf-access-requests",
    "api-repo-audit-log",
    "repo-audit-log",
    "repo-branch-rules",
}
# Reads that need a write role (a token to push with Xet).
WRITE_READS = {"xet-write-token", "hf-lfs-files"}
# Reads that need a signed-in user.
USER_READS = {"repo-discussion-new", "repo-edit", "repo-upload", "repo-ask-access"}
# Routes about gated access only: on a repository that is not gated they answer a 4xx.
GATED_ONLY = {
    "api-repo-access-requests",
    "api-repo-access-request",
    "hf-access-requests",
    "registry.hf.access_requests.access_request_handle",
    "registry.hf.access_requests.access_request_grant",
    "repo-ask-access",
    "repo-access-requests",
}
# git-lfs's locking API answers 501 to everyone without looking at the repository.
NOT_REPOSITORY_BOUND = {"registry.githttp.views.lfs_locks"}
QUERIES = {"git-info-refs": "?service=git-upload-pack"}
# Requests in the shape the protocol expects, so each meets the access check rather than the parser.
LFS = "application/vnd.git-lfs+json"
BODIES = {
    "lfs-batch": (LFS, b'{"operation": "download", "objects": [{"oid": "' + b"a" * 64 + b'", "size": 1}]}'),
    "git-upload-pack": ("application/x-git-upload-pack-request", b"0000"),
    "git-receive-pack": ("application/x-git-receive-pack-request", b"0000"),
}
UNSAFE = ("POST", "PUT", "PATCH", "DELETE")
SAFE = ("GET", "HEAD")
# Routes the clients also ask with HEAD (huggingface_hub reads a file's metadata so).
HEAD_ROUTES = {"resolve"}


def _key(route: Route) -> str:
    return route.name or route.label


def _repo_routes() -> list[Route]:
    return [
        route
        for route in all_routes()
        if {"namespace", "name"} <= set(route.parameters) and not route.label.startswith("evals.leaderboards")
    ]


@dataclass(frozen=True)
class Answer:
    status: int
    login: bool  # a redirect to the log-in page
    error: str  # a JSON answer's body, else ""


def _send(client: Client, method: str, path: str, key: str = "") -> Answer:
    """One request in a savepoint rolled back after it."""
    content_type, body = BODIES.get(key, ("application/json", b"{}"))
    with transaction.atomic():
        if method in SAFE:
            response = client.generic(method, path)
        else:
            response = client.generic(method, path, body, content_type=content_type)
        transaction.set_rollback(True)
    login = response.status_code == 302 and "/login" in response.get("Location", "")
    is_json = "json" in response.get("Content-Type", "") and not response.streaming
    return Answer(response.status_code, login, response.content.decode(errors="replace") if is_json else "")


def _path(route: Route, values: dict[str, str]) -> str:
    parts = {k: v for k, v in values.items() if k in route.parameters}
    return route.path_with(**parts) + QUERIES.get(route.name or "", "")


def _problem(expected: str, answer: Answer, role: str, name: str, missing: Callable[[], Answer]) -> str | None:
    """What is wrong with ``answer`` to ``role`` in a cell that should be ``expected`` (None if
    nothing); ``missing`` sends the same request for a repository that does not exist, and
    ``name`` is the repository's, for comparing the words of both answers."""
    anonymous_refusal = role == "anonymous" and (answer.status == 401 or answer.login)
    if answer.status >= 500:
        return "a server error"
    if expected == "hidden":
        if answer.status == 404:
            ghost = missing()
            if ghost.status == 404 and answer.error.replace(name, "no-such-repo") != ghost.error:
                return f"a 404 unlike a missing repository's: {answer.error[:120]!r} vs {ghost.error[:120]!r}"
            return None
        # An anonymous caller may be asked to log in first, as for a missing repository.
        if anonymous_refusal and (ghost := missing()).status == answer.status and ghost.login == answer.login:
            return None
        return "expected 404 as for a missing repository"
    if expected == "inapplicable":
        return None if 400 <= answer.status < 500 or answer.login else "expected a 4xx (not a gated repository)"
    if expected == "refused":
        refusals = (403, 451)  # 451: a repository disabled by the moderators
        return (
            None if answer.status in refusals or anonymous_refusal else "expected a refusal (403, 451, 401 or log-in)"
        )
    return "expected no refusal" if answer.status in (401, 403) or answer.login else None


@pytest.fixture
def world(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    admin, writer, reader, other = (make_user(name) for name in ("ada", "wes", "rita", "olga"))
    org = make_org("acme", admin=admin, members={"wes": "write", "rita": "read"})
    users = {"admin": admin, "writer": writer, "reader": reader, "other": other}
    repos = {}
    for visibility, spec in VISIBILITIES.items():
        repo = make_repo(admin, f"m-{visibility}", namespace=org.namespace)
        result = commit_files(repo, admin, {"base.txt": b"secret contents\n", "README.md": b"# card\n"})
        discussion = discussion_create(
            repo=repo, user=writer, title="A proposal", description="first", pull_request=True
        )
        spec.apply(repo)
        repos[visibility] = {
            "namespace": "acme",
            "name": repo.name,
            "oid": result.commit.oid,
            "num": str(discussion.num),
            "event_id": str(discussion.events.first().pk),
            "comment_id": str(discussion.events.first().pk),
        }
    clients = {"anonymous": Client(raise_request_exception=False)}
    for role, user in users.items():
        client = Client(raise_request_exception=False, HTTP_AUTHORIZATION=f"Bearer {make_token(user)}")
        client.force_login(user)
        clients[role] = client
    return repos, clients


def _expected(key: str, method: str, role: str, visibility: str) -> str:
    """What the cell must answer: "hidden" (404), "refused" (401/403/log-in), "inapplicable" (a
    4xx: an access-request route of a repository that is not gated), "allowed"."""
    spec = VISIBILITIES[visibility]
    if role not in spec.sees:
        return "hidden"
    if key in GATED_ONLY and not spec.gated:
        return "inapplicable"
    if method not in SAFE:
        if POWER[role] < NEED_POWER[NEEDS[key]] or role not in spec.writes:
            return "refused"
    else:
        if key in ADMIN_READS and POWER[role] < NEED_POWER["admin"]:
            return "refused"
        if key in WRITE_READS and POWER[role] < NEED_POWER["write"]:
            return "refused"
        if key in USER_READS and role == "anonymous":
            return "refused"
    if key in CONTENT_ROUTES and role not in spec.reads_files:
        return "refused"
    return "allowed"


def test_authorization_matrix(world):
    repos, clients = world
    routes = [route for route in _repo_routes() if _key(route) not in NOT_REPOSITORY_BOUND]
    assert len(routes) >= 70, len(routes)
    problems: list[str] = []
    checked = 0
    for route in routes:
        key = _key(route)
        paths = {visibility: _path(route, values) for visibility, values in repos.items()}
        # The same paths to a repository that does not exist.
        ghosts = {visibility: _path(route, values | {"name": "no-such-repo"}) for visibility, values in repos.items()}
        # Which methods the route takes: "other" on the public repository meets a 405 otherwise.
        methods = ["GET"] + [
            method for method in UNSAFE if _send(clients["other"], method, paths["public"], key).status != 405
        ]
        if _send(clients["other"], "GET", paths["public"], key).status == 405:
            methods.remove("GET")
        elif key in HEAD_ROUTES:
            methods.append("HEAD")
        for method in methods:
            if method not in SAFE and key not in NEEDS:
                problems.append(f"{method} {key}: not classified in NEEDS")
                continue
            answers: dict[tuple[str, str], int] = {}
            for visibility in VISIBILITIES:
                for role in ROLES:
                    expected = _expected(key, method, role, visibility)
                    if expected == "allowed" and method not in SAFE:
                        continue  # writes that are allowed are the services' tests' business
                    answer = _send(clients[role], method, paths[visibility], key)
                    answers[(visibility, role)] = answer.status
                    checked += 1
                    missing = functools.partial(_send, clients[role], method, ghosts[visibility], key)
                    problem = _problem(expected, answer, role, repos[visibility]["name"], missing)
                    if problem is not None:
                        where = f"{method} {paths[visibility]} ({key}) as {role} on {visibility}: {answer.status}"
                        problems.append(f"{where}, {problem}")
            # A member reads a private repository as a public one; everyone reads a gated one's
            # metadata as a public one's.
            for role in ROLES:
                public = answers.get(("public", role))
                for visibility in VISIBILITIES:
                    other = answers.get((visibility, role))
                    if method not in SAFE or public is None or other is None or visibility == "public":
                        continue
                    both_allowed = {_expected(key, method, role, v) for v in ("public", visibility)} == {"allowed"}
                    if both_allowed and other != public:
                        problems.append(
                            f"{method} {key} as {role}: {visibility} answers {other}, public answers {public}"
                        )
    assert not problems, f"{len(problems)} problems in {checked} cells:\n" + "\n".join(problems)


# Routes that name the repository in their body rather than their path.
BODY_SCOPED = {
    "hf-repo-delete": ("DELETE", "/api/repos/delete", lambda name: {"name": name, "organization": "acme"}),
    "hf-repo-move": ("POST", "/api/repos/move", lambda name: {"fromRepo": f"acme/{name}", "toRepo": "acme/moved"}),
}


@pytest.mark.parametrize("key", sorted(BODY_SCOPED))
def test_routes_naming_the_repository_in_their_body(world, key):
    repos, clients = world
    method, path, body = BODY_SCOPED[key]
    for visibility, values in repos.items():
        for role in ROLES:
            expected = _expected(key, method, role, visibility)
            if expected == "allowed":
                continue
            status = _send_json(clients[role], method, path, body(values["name"]))
            if expected == "hidden":
                # Anonymous callers are asked to log in before any look-up, as for a missing one.
                missing = _send_json(clients[role], method, path, body("no-such-repo"))
                allowed = {404} | ({401} if role == "anonymous" and missing == 401 else set())
            else:
                allowed = {403} if role != "anonymous" else {401}
            assert status in allowed, (key, role, visibility, status)


def _send_json(client: Client, method: str, path: str, body: dict) -> int:
    with transaction.atomic():
        response = client.generic(method, path, json.dumps(body), content_type="application/json")
        transaction.set_rollback(True)
    return response.status_code
