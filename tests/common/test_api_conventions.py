"""REST API conventions: one error shape, pagination, throttling, the OpenAPI schema."""

import pytest
from rest_framework.test import APIClient

from hub.models import User
from tests.support.factories import make_org, make_user

pytestmark = pytest.mark.django_db


def test_openapi_schema_and_swagger_ui(client):
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    document = schema.json()
    assert document["openapi"].startswith("3.")
    assert "/api/v1/tokens" in document["paths"]
    assert "/api/v1/organizations/{name}/members" in document["paths"]
    docs = client.get("/api/v1/docs/")
    assert docs.status_code == 200
    assert b"swagger-ui" in docs.content


def test_malformed_json_gets_the_error_shape_and_changes_nothing():
    client = APIClient()
    client.force_authenticate(make_user("jo"))
    response = client.post("/api/v1/organizations", data="{not json", content_type="application/json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "malformed_request"
    assert body["error"].startswith("JSON parse error")
    assert User.objects.get(username="jo").organizations.count() == 0


def test_validation_errors_name_their_fields():
    response = APIClient().post("/api/v1/users", {"username": "zed"}, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "error": "email: This field is required.",
        "code": "invalid",
        "fields": {"email": ["This field is required."], "password": ["This field is required."]},
    }


def test_signup_through_the_api():
    response = APIClient().post(
        "/api/v1/users", {"username": "zed", "email": "zed@example.org", "password": "a-long-password-1"}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["name"] == "zed"
    duplicate = APIClient().post(
        "/api/v1/users", {"username": "ZED", "email": "z2@example.org", "password": "a-long-password-1"}, format="json"
    )
    assert duplicate.status_code == 409
    assert duplicate.json()["fields"] == {"name": ["'ZED' is already taken."]}


def test_pagination_with_link_header():
    admin = make_user("boss")
    members = {make_user(f"member{i}").username: "read" for i in range(5)}
    make_org("crowd", admin=admin, members=members)
    response = APIClient().get("/api/v1/organizations/crowd/members?page_size=2")
    body = response.json()
    assert body["count"] == 6
    assert [m["username"] for m in body["results"]] == ["boss", "member0"]
    assert response["Link"] == '<http://testserver/api/v1/organizations/crowd/members?page=2&page_size=2>; rel="next"'
    last = APIClient().get("/api/v1/organizations/crowd/members?page=3&page_size=2")
    assert [m["username"] for m in last.json()["results"]] == ["member3", "member4"]
    assert "next" not in last["Link"]


def test_throttling_per_ip_sends_retry_after(settings):
    settings.REST_FRAMEWORK = settings.REST_FRAMEWORK | {
        "DEFAULT_THROTTLE_RATES": {"user": "100/minute", "ip": "3/minute"}
    }
    client = APIClient()
    statuses = [client.get("/api/v1/users/nobody").status_code for _ in range(4)]
    assert statuses == [404, 404, 404, 429]
    throttled = client.get("/api/v1/users/nobody")
    assert throttled.json()["code"] == "rate_limited"
    assert 1 <= int(throttled["Retry-After"]) <= 60
    # Another address has its own budget.
    assert client.get("/api/v1/users/nobody", REMOTE_ADDR="10.0.0.9").status_code == 404


def test_throttling_per_user(settings):
    settings.REST_FRAMEWORK = settings.REST_FRAMEWORK | {
        "DEFAULT_THROTTLE_RATES": {"user": "2/minute", "ip": "100/minute"}
    }
    client = APIClient()
    client.force_authenticate(make_user("busy"))
    statuses = [client.get("/api/v1/me", REMOTE_ADDR=f"10.0.0.{i}").status_code for i in range(3)]
    assert statuses == [200, 200, 429]
    assert int(client.get("/api/v1/me")["Retry-After"]) >= 1
