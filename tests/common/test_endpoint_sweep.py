"""A sweep over every route of the URL configuration (so a new endpoint is covered without anyone
listing it): crafted paths, query strings and bodies get a 4xx — JSON on API paths — never a 5xx,
an exception, or a header that would break the response (control characters, unbounded size).

The test client re-raises any exception a view lets through, so "never a 5xx" includes "never an
unhandled error"; header values are checked for the characters a server would refuse to send
(Django lets NUL through; uvicorn then drops the connection).
"""

import json
import re
from urllib.parse import quote, urlencode

import pytest
from django.test import Client

from common.views import is_api_path
from tests.frontend.builders import commit_files, make_repo
from tests.support.factories import make_token, make_user
from tests.support.routes import all_routes

pytestmark = pytest.mark.django_db

ROUTES = all_routes()
UNSAFE = ("POST", "PUT", "PATCH", "DELETE")
CRAFTED_SEGMENTS = ("a\rb", "a\nb", "a\x00b", "\x85\u2028", "\u202eevil", "9" * 25, "a" * 300, "..", "%", " x ")
CRAFTED_QUERIES = (
    {"cursor": "99999999999999999999"},
    {"p": "99999999999999999999"},
    {"page": "99999999999999999999"},
    {"limit": "99999999999999999999"},
    {"after": "1e-225"},
    {"cursor": "-1"},
    {"sort": "a\x00b"},
    {"search": "a\x00b"},
    {"direction": "abc"},
    {"expand": "maybe", "recursive": "[]"},
)
# A body that looks right to most endpoints, so a wrong value in one field is what they meet.
BASELINE = {
    "name": "other",
    "type": "model",
    "title": "A title",
    "description": "Some text",
    "comment": "A comment",
    "content": "---\nlicense: mit\n---\n",
    "status": "closed",
    "tag": "v2",
    "message": "m",
    "operation": "download",
    "objects": [{"oid": "a" * 64, "size": 1}],
    "files": [{"path": "a.txt", "size": 1, "sample": ""}],
    "paths": ["base.txt"],
    "role": "read",
    "model": "alice/tiny",
    "prompt": "hi",
    "messages": [{"role": "user", "content": "hi"}],
}
WRONG_VALUES = (["model"], "big", 10**30, "a\x00b")
BODIES = {
    "deep array": b"[" * 50_000 + b"]" * 50_000,
    "deep object": b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
    "not an object": b'["a", 1]',
    "not json": b"{\x00\xff",
    "empty": b"",
    **{
        f"{key}={value!r}": json.dumps({**BASELINE, key: value}).encode()
        for key in (*BASELINE, "size", "private", "visibility", "pullRequest", "max_tokens", "startingPoint")
        for value in WRONG_VALUES
    },
}
_UNSAFE_HEADER = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")
MAX_HEADER_BYTES = 8192


@pytest.fixture
def client(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    alice = make_user("alice")
    repo = make_repo(alice, "tiny")
    commit_files(repo, alice, {"base.txt": b"one\n", "README.md": b"# tiny\n"}, summary="Base")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {make_token(alice)}")
    client.force_login(alice)
    return client


def _check(response, path: str, what: str) -> None:
    where = f"{what} {path!r}"
    # git-lfs's locking API answers 501 on purpose: git-lfs then stops asking.
    not_implemented = response.status_code == 501 and "/info/lfs/locks" in path
    assert response.status_code < 500 or not_implemented, (where, response.status_code, response.content[:300])
    for name, value in response.headers.items():
        assert not _UNSAFE_HEADER.search(value), (where, name, value[:100])
        assert len(value) <= MAX_HEADER_BYTES, (where, name, len(value))
    if response.status_code >= 400 and is_api_path(path):
        content_type = response.headers.get("Content-Type", "")
        # git prints text errors after "remote:"; the schema endpoint answers in the schema's format.
        plain_git = content_type.startswith("text/plain") and ("git-" in path or "/info/refs" in path)
        schema = content_type.startswith("application/vnd.oai.openapi")
        assert "json" in content_type or plain_git or schema, (where, response.status_code, content_type)


def _label(route) -> str:
    return f"{route.name or route.label}:{route.path}"


@pytest.mark.parametrize("route", ROUTES, ids=_label)
def test_crafted_requests_get_a_4xx(client, route):
    for parameter in route.parameters:
        for value in CRAFTED_SEGMENTS:
            path = route.path_with(**{parameter: value})
            _check(client.get(quote(path, safe="/")), path, f"GET {parameter}={value!r}")
    for params in CRAFTED_QUERIES:
        _check(client.get(route.path + "?" + urlencode(params)), route.path, f"GET ?{params}")
    for method in UNSAFE:
        probe = client.generic(method, route.path, json.dumps(BASELINE), content_type="application/json")
        _check(probe, route.path, f"{method} baseline")
        # Pages take forms, not JSON: the probe is enough for them.
        if probe.status_code == 405 or not is_api_path(route.path):
            continue
        for what, body in BODIES.items():
            response = client.generic(method, route.path, body, content_type="application/json")
            _check(response, route.path, f"{method} {what}")
