"""The OpenAPI schema of the REST API says what the API does: one component per serializer,
paginated lists as the paginated objects they are, bearer tokens, enums, the error answers — and
schemathesis, driving the live API from the schema with generated requests, finds no server error
and no answer that the schema does not describe."""

from __future__ import annotations

import warnings

import pytest
import schemathesis
from django.test import Client
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.frontend.builders import commit_files, make_repo
from tests.support.factories import make_org, make_token, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def document():
    from drf_spectacular.drainage import GENERATOR_STATS

    GENERATOR_STATS.reset()
    with warnings.catch_warnings():
        response = Client().get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    assert (GENERATOR_STATS._warn_cache, GENERATOR_STATS._error_cache) == ({}, {})  # generated cleanly
    return response.json()


def _request_component(document, path: str, method: str) -> str:
    return document["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]["$ref"]


def _response(document, path: str, method: str, status: str) -> dict:
    return document["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"]


def test_every_request_body_has_a_component_of_its_own(document):
    bodies = {
        ("/api/v1/repos", "post"): "RepoListCreateInputRequest",
        ("/api/v1/users", "post"): "UserCreateInputRequest",
        ("/api/v1/tokens", "post"): "TokenListCreateInputRequest",
        ("/api/v1/organizations", "post"): "OrganizationCreateInputRequest",
        ("/api/v1/organizations/{name}/members", "post"): "OrganizationMembersInputRequest",
        ("/api/v1/repos/{types}/{namespace}/{name}/branches/{branch}", "post"): "BranchInputRequest",
        ("/api/v1/repos/{types}/{namespace}/{name}/tags/{tag}", "post"): "TagInputRequest",
        ("/api/v1/repos/{types}/{namespace}/{name}/move", "post"): "RepoMoveInputRequest",
    }
    found = {key: _request_component(document, *key).rsplit("/", 1)[-1] for key in bodies}
    assert found == bodies
    assert set(document["components"]["schemas"]["UserCreateInputRequest"]["properties"]) == {
        "username", "email", "password", "fullname",
    }  # fmt: skip


def test_lists_are_documented_as_the_pages_they_are(document):
    refs = {
        "/api/v1/repos": "PaginatedRepoOutputList",
        "/api/v1/tokens": "PaginatedTokenOutputList",
        "/api/v1/organizations/{name}/members": "PaginatedMemberOutputList",
        "/api/v1/repos/{types}/{namespace}/{name}/commits/{revision}": "CommitPage",
        "/api/v1/repos/{types}/{namespace}/{name}/tree/{revision}": "TreeOutput",
    }
    assert {path: _response(document, path, "get", "200")["$ref"].rsplit("/", 1)[-1] for path in refs} == refs
    page = document["components"]["schemas"]["PaginatedRepoOutputList"]
    assert (sorted(page["properties"]), page["properties"]["results"]["items"]["$ref"]) == (
        ["count", "count_capped", "next", "previous", "results"], "#/components/schemas/RepoOutput",
    )  # fmt: skip
    assert page["properties"]["count_capped"]["type"] == "boolean"  # a search's count may stop at its cap
    tokens = document["components"]["schemas"]["PaginatedTokenOutputList"]
    assert sorted(tokens["properties"]) == ["count", "next", "previous", "results"]


def test_bearer_tokens_enums_and_errors_are_declared(document):
    schemes = document["components"]["securitySchemes"]
    assert schemes["bearerAuth"]["type"] == "http"
    assert schemes["bearerAuth"]["scheme"] == "bearer"
    assert document["paths"]["/api/v1/tokens"]["get"]["security"] == [{"bearerAuth": []}, {"cookieAuth": []}]
    types = next(
        parameter
        for parameter in document["paths"]["/api/v1/repos/{types}/{namespace}/{name}"]["get"]["parameters"]
        if parameter["name"] == "types"
    )
    assert types["schema"] == {"type": "string", "enum": ["datasets", "models", "tutorials"]}
    assert document["components"]["schemas"]["TokenRoleEnum"]["enum"] == ["read", "write"]
    create = document["paths"]["/api/v1/repos"]["post"]["responses"]
    assert sorted(create) == ["201", "400", "401", "403", "404", "409", "429"]
    assert _response(document, "/api/v1/repos", "post", "409") == {"$ref": "#/components/schemas/Error"}
    listing = document["paths"]["/api/v1/repos"]["get"]["responses"]
    assert sorted(listing) == ["200", "400", "401", "404", "429"]  # 404: a page past the last
    assert sorted(document["paths"]["/api/v1/me"]["get"]["responses"]) == ["200", "400", "401", "403", "429"]
    commit = document["paths"]["/api/v1/repos/{types}/{namespace}/{name}/commits/{revision}"]["post"]["responses"]
    assert "412" in commit
    error = document["components"]["schemas"]["Error"]
    assert (sorted(error["properties"]), sorted(error["required"])) == (["code", "error", "fields"], ["code", "error"])


def test_unrouted_api_paths_answer_in_the_error_shape():
    response = Client().delete("/api/v1/tokens/-1")
    assert (response.status_code, response["Content-Type"]) == (404, "application/json")
    assert response.json() == {"error": "No API endpoint at /api/v1/tokens/-1.", "code": "not_found"}
    page = Client().get("/no/such/page/here")
    assert (page.status_code, page["Content-Type"]) == (404, "text/html; charset=utf-8")


# ----------------------------------------------------------------------------- schemathesis


def _generated_schema() -> dict:
    """The document ``/api/v1/schema/`` serves, generated from the code (no database needed), so
    the operations are known when tests are collected; the requests go to the live server."""
    import json

    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.renderers import OpenApiJsonRenderer

    return json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))


live_api = schemathesis.openapi.from_dict(_generated_schema())
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def live_hub(live_server, settings):
    """alice's public model with a commit and her organization, for the paths to find; her write
    token goes with every request. The rate limits are out of the way of a few hundred requests."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"user": "100000/hour", "ip": "100000/hour"},
    }  # fmt: skip
    alice = make_user("alice")
    make_org("acme", admin=alice)
    repo = make_repo(alice, "tiny")
    commit_files(repo, alice, {"README.md": b"# Tiny\n", "config.json": b"{}"})
    return {"url": live_server.url, "headers": {"Authorization": f"Bearer {make_token(alice)}"}}


@pytest.mark.live
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@live_api.parametrize()
@settings(max_examples=12, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_live_api_answers_as_its_schema_says(case, live_hub):
    case.call_and_validate(base_url=live_hub["url"], headers=live_hub["headers"], checks=CHECKS)
