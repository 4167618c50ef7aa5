"""Regressions of a probe of a live hub: crafted paths, revisions, query strings and bodies get a
4xx in the one JSON error shape — never an HTML 500, a header that breaks the response, or an
unbounded echo of the input. (tests/common/test_endpoint_sweep.py sweeps every route; these pin
the cases the probe found.)"""

import json

import pytest
from django.test import Client

from common.errors import MAX_HEADER_CHARS, ValidationError, error_response
from community.models import Discussion
from registry.models import Repo
from tests.frontend.builders import commit_files
from tests.support.factories import make_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(alice, repo):
    return Client(HTTP_AUTHORIZATION=f"Bearer {make_token(alice)}")


def _bad(response, status: int = 400, code: str | None = None) -> dict:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    if code is not None:
        assert body["code"] == code
    return body


def test_error_headers_are_one_bounded_line():
    response = error_response(ValidationError("bad \x00 name\r\nSet-Cookie: x=1 " + "y" * 50_000))
    header = response["X-Error-Message"]
    assert header.startswith("bad   name  Set-Cookie: x=1 yyy")
    assert len(header) == MAX_HEADER_CHARS
    assert header.endswith("...")
    assert len(json.loads(response.content)["error"]) == 1000


@pytest.mark.parametrize(
    "path",
    [
        "/alice/tiny/resolve/main/x%0d.txt",
        "/alice/tiny/resolve/main/x%00.txt",
        "/alice/tiny/resolve/ma%00in/base.txt",
        "/api/models/alice/tiny/tree/main/x%0d",
        "/api/models/alice/tiny/tree/ma%00in",
        "/api/models/alice/tiny/commits/ma%0din",
        "/api/models/alice/tiny/revision/ma%00in",
        "/api/v1/runs/%E2%80%AE%0d%01/metrics?after=1e-225",
    ],
)
def test_control_characters_in_api_paths_are_a_json_400(client, path):
    body = _bad(client.get(path), code="invalid")
    assert body["error"] == "The path holds control characters (NUL, CR, LF, ...), which no name may contain."


def test_unicode_in_unrouted_api_paths_is_a_json_404_with_a_clean_header(client):
    response = client.get("/api/v1/runs/%C2%85%E2%80%A8%E2%80%AE/metrics?after=1e-225")
    _bad(response, 404, "not_found")
    assert response["X-Error-Message"] == "No API endpoint at /api/v1/runs/ ??/metrics."


def test_control_characters_in_page_paths_are_an_html_400(client):
    for path in ("/alice/tiny/raw/main/x%00.txt", "/alice/tiny/tree/ma%0din", "/alice/tiny/blob/main/a%0d"):
        response = client.get(path)
        assert response.status_code == 400
        assert response["Content-Type"].startswith("text/html")


def test_nul_in_the_query_string_is_a_400(client):
    _bad(client.get("/api/models?sort=likes%00"), code="invalid")
    _bad(client.get("/api/v1/repos?sort=%00"), code="invalid")


@pytest.mark.parametrize(
    "path",
    [
        "/api/models/alice/tiny/tree/main?cursor=99999999999999999999",
        "/api/models/alice/tiny/commits/main?cursor=99999999999999999999",
        "/api/models/alice/tiny/discussions?p=99999999999999999999",
        "/api/models?direction=abc",
        "/api/models?direction=1",
        "/api/v1/repos/models/alice/tiny/commits/main?page=99999999999999999999",
    ],
)
def test_out_of_range_query_integers_are_a_400(client, path):
    _bad(client.get(path), code="invalid")


def test_huge_ids_in_paths_are_a_404(client):
    _bad(client.get("/api/v1/runs/99999999999999999999/metrics"), 404)
    _bad(client.get("/api/models/alice/tiny/discussions/99999999999999999999"), 400, "invalid")


@pytest.mark.parametrize(
    ("url", "method"),
    [
        ("/api/repos/create", "post"),
        ("/api/repos/move", "post"),
        ("/api/repos/delete", "delete"),
        ("/api/models/alice/tiny/settings", "put"),
        ("/api/models/alice/tiny/branch/dev", "post"),
        ("/api/models/alice/tiny/tag/main", "post"),
        ("/api/validate-yaml", "post"),
        ("/api/models/alice/tiny/preupload/main", "post"),
        ("/alice/tiny.git/info/lfs/objects/batch", "post"),
        ("/api/models/alice/tiny/discussions", "post"),
        ("/api/v1/repos", "post"),
        ("/api/v1/tokens", "post"),
        ("/api/v1/organizations", "post"),
        ("/api/v1/users", "post"),
    ],
)
def test_json_nested_50000_deep_is_a_400(client, url, method):
    deep = b'{"a":' * 50_000 + b"1" + b"}" * 50_000
    body = _bad(getattr(client, method)(url, deep, content_type="application/json"))
    assert "nested deeper than 64 levels" in body["error"]


@pytest.mark.parametrize(
    ("url", "body", "field"),
    [
        ("/api/repos/create", {"name": "x", "type": ["model"]}, "type"),
        ("/api/repos/create", {"name": "x", "private": "yes"}, "private"),
        ("/api/models/alice/tiny/preupload/main", {"files": [{"path": "a", "size": "big"}]}, "size"),
        ("/api/models/alice/tiny/preupload/main", {"files": [{"path": "a", "size": 10**30}]}, "size"),
        ("/api/models/alice/tiny/paths-info/main", {"paths": 5}, "paths"),
        ("/alice/tiny.git/info/lfs/objects/batch", {"operation": ["upload"], "objects": []}, "operation"),
        ("/api/models/alice/tiny/discussions", {"title": "t", "description": ["a list"]}, "description"),
        ("/api/models/alice/tiny/discussions", {"title": "t", "pullRequest": "yes"}, "pullRequest"),
        ("/api/models/alice/tiny/discussions", {"title": "t", "description": "x" * 70_000}, "description"),
        ("/api/models/alice/tiny/settings", {"private": "yes"}, "private"),
    ],
)
def test_wrong_types_and_sizes_are_a_400_naming_the_field(client, url, body, field):
    method = client.put if url.endswith("/settings") else client.post
    response = _bad(method(url, json.dumps(body), content_type="application/json"), code="invalid")
    assert list(response["fields"]) == [field]
    assert Repo.objects.count() == 1
    assert Discussion.objects.count() == 0


def test_huge_lfs_sizes_are_refused_per_object(client):
    body = {"operation": "upload", "objects": [{"oid": "a" * 64, "size": 10**30}]}
    response = client.post("/alice/tiny.git/info/lfs/objects/batch", json.dumps(body), content_type="application/json")
    assert response.status_code == 200
    assert response.json()["objects"][0]["error"]["code"] == 422


def test_a_huge_repository_name_is_never_echoed_unbounded(client):
    name = "a" * 1_000_000
    response = client.post("/api/repos/create", {"name": name}, content_type="application/json")
    assert 400 <= response.status_code < 500
    assert len(response["X-Error-Message"]) <= MAX_HEADER_CHARS
    assert len(response.json()["error"]) <= 1000


def test_bodies_over_the_cap_are_refused_before_they_are_read(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
    big = json.dumps({"name": "a" * 2 * 1024 * 1024}).encode()
    _bad(client.post("/api/repos/create", big, content_type="application/json"), 413, "too_large")
    _bad(client.post("/api/v1/organizations", big, content_type="application/json"), 413, "too_large")
    page = Client().post("/login", {"username": "a" * 2 * 1024 * 1024, "password": "x"})
    assert page.status_code == 413
    assert Repo.objects.count() == 1


def test_an_unexpected_error_on_an_api_path_answers_json(client, settings):
    settings.ROOT_URLCONF = "tests.support.failing_urls"
    client.raise_request_exception = False
    body = _bad(client.get("/api/boom"), 500, "server_error")
    assert body["error"] == "The server failed to answer this request; the error has been logged."
    page = client.get("/boom")
    assert page.status_code == 500
    assert page["Content-Type"].startswith("text/html")


def test_svg_files_are_downloaded_not_rendered(alice, repo, client):
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    commit_files(repo, alice, {"logo.svg": svg, "pic.png": b"\x89PNG\r\n"})
    for url in ("/alice/tiny/resolve/main/logo.svg", "/alice/tiny/raw/main/logo.svg"):
        response = client.get(url)
        assert response.status_code == 200
        assert response["Content-Disposition"] == "attachment; filename*=UTF-8''logo.svg"
        assert response["Content-Security-Policy"].startswith("sandbox")
    assert client.get("/alice/tiny/resolve/main/pic.png")["Content-Disposition"].startswith("inline;")


class _LazyBody:
    """A request body of ``size`` bytes produced as it is read, so only what the server reads is
    ever in memory."""

    def __init__(self, size: int) -> None:
        self.left = size

    def read(self, size: int = -1) -> bytes:
        count = self.left if size is None or size < 0 else min(size, self.left)
        self.left -= count
        return b"x" * count

    def readline(self, size: int = -1) -> bytes:
        return self.read(size)


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/api/repos/create", "application/json"),
        ("/api/v1/organizations", "application/json"),
        ("/api/v1/organizations", "application/x-www-form-urlencoded"),
        ("/login", "application/x-www-form-urlencoded"),
    ],
)
def test_a_100_mb_body_is_refused_without_holding_it(alice, path, content_type):
    import tracemalloc

    from django.test.client import ClientHandler, RequestFactory

    size = 100 * 1024 * 1024
    environ = RequestFactory()._base_environ(
        PATH_INFO=path, REQUEST_METHOD="POST", CONTENT_TYPE=content_type, CONTENT_LENGTH=str(size),
        HTTP_AUTHORIZATION=f"Bearer {make_token(alice)}", **{"wsgi.input": _LazyBody(size)},
    )  # fmt: skip
    handler = ClientHandler(enforce_csrf_checks=False)
    # Warm up: the first request imports the views, which is not what is measured.
    handler(RequestFactory()._base_environ(PATH_INFO=path, REQUEST_METHOD="POST", CONTENT_TYPE=content_type))
    tracemalloc.start()
    try:
        response = handler(environ)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert response.status_code == 413
    # The default cap is 8 MiB: at most that (and one byte) is read to find out.
    assert peak < 12 * 1024 * 1024, peak
