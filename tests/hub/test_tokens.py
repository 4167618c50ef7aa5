"""API tokens: creation, listing, revocation, hashing, last use, scopes, and the CLI command."""

import base64
import hashlib
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from hub.models import ApiToken
from tests.support.factories import make_token, make_user

pytestmark = pytest.mark.django_db


def _bearer(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def test_create_list_revoke_through_rest():
    user = make_user("tina")
    session = APIClient()
    session.force_authenticate(user)
    created = session.post("/api/v1/tokens", {"name": "laptop", "role": "write"}, format="json")
    assert created.status_code == 201
    body = created.json()
    secret = body["token"]
    assert secret.startswith("hub_")
    assert body["name"] == "laptop"
    assert body["role"] == "write"
    assert body["last_used_at"] is None
    # Only the hash is stored; the secret never is.
    row = ApiToken.objects.get(pk=body["id"])
    assert row.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in {row.token_hash, row.prefix, row.name}
    assert body["prefix"] == secret[:8]
    listing = _bearer(secret).get("/api/v1/tokens").json()
    assert listing["count"] == 1
    assert "token" not in listing["results"][0]
    assert listing["results"][0]["last_used_at"] is not None
    assert _bearer(secret).delete(f"/api/v1/tokens/{body['id']}").status_code == 204
    revoked = _bearer(secret).get("/api/v1/me")
    assert revoked.status_code == 401
    assert revoked.json() == {"error": "Invalid user token.", "code": "invalid_token"}
    assert revoked["WWW-Authenticate"] == 'Bearer realm="api"'


def test_bad_token_input_is_refused():
    user = make_user("tina")
    client = APIClient()
    client.force_authenticate(user)
    bad_role = client.post("/api/v1/tokens", {"name": "x", "role": "admin"}, format="json")
    assert bad_role.status_code == 400
    assert bad_role.json()["code"] == "invalid"
    assert client.post("/api/v1/tokens", {"name": "", "role": "read"}, format="json").status_code == 400
    assert ApiToken.objects.count() == 0
    assert client.delete("/api/v1/tokens/999").status_code == 404


def test_last_used_at_is_recorded_at_most_once_a_minute():
    user = make_user("tina")
    secret = make_token(user)
    token = ApiToken.objects.get()
    assert token.last_used_at is None
    _bearer(secret).get("/api/v1/me")
    first = ApiToken.objects.get().last_used_at
    assert first is not None
    _bearer(secret).get("/api/v1/me")
    assert ApiToken.objects.get().last_used_at == first
    ApiToken.objects.update(last_used_at=timezone.now() - timedelta(minutes=5))
    _bearer(secret).get("/api/v1/me")
    assert ApiToken.objects.get().last_used_at > first


def test_read_token_cannot_write():
    user = make_user("tina")
    read = make_token(user, role="read")
    response = _bearer(read).post("/api/v1/organizations", {"name": "readers"}, format="json")
    assert response.status_code == 403
    assert response.json()["error"] == "This token is read-only; create a token with the 'write' role."
    assert _bearer(read).get("/api/v1/me").json()["name"] == "tina"


def test_malformed_authorization_header():
    response = APIClient().get("/api/v1/me", HTTP_AUTHORIZATION="Token abc")
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"


def test_settings_page_shows_secret_once_and_revokes(client):
    user = make_user("tina")
    client.force_login(user)
    page = client.post("/settings/tokens", {"name": "ci", "role": "read"})
    secret = page.context["new_secret"]
    assert secret.startswith("hub_")
    assert secret in page.content.decode()
    again = client.get("/settings/tokens")
    assert secret not in again.content.decode()
    token = ApiToken.objects.get()
    assert client.post(f"/settings/tokens/{token.pk}/revoke").status_code == 302
    assert ApiToken.objects.get().revoked_at is not None
    assert client.post(f"/settings/tokens/{token.pk}/revoke").status_code == 404


def test_hub_token_command_prints_a_working_token(capsys):
    make_user("cli-user")
    call_command("hub_token", "create", "cli-user", "--role", "write")
    secret = capsys.readouterr().out.strip()
    token = ApiToken.objects.get()
    assert token.role == "write"
    assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert _bearer(secret).get("/api/v1/me").json()["name"] == "cli-user"


def test_hub_token_command_unknown_user():
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="No user is called 'ghost'"):
        call_command("hub_token", "create", "ghost")


def test_a_token_as_the_password_of_http_basic(client):
    """git and git-lfs send ``user:token`` (any user name) as HTTP Basic; the HF API accepts it."""
    secret = make_token(make_user("tina"))
    basic = "Basic " + base64.b64encode(f"whoever:{secret}".encode()).decode()
    assert client.get("/api/whoami-v2", HTTP_AUTHORIZATION=basic).json()["name"] == "tina"
    wrong = "Basic " + base64.b64encode(b"tina:hub_wrong").decode()
    refused = client.get("/api/whoami-v2", HTTP_AUTHORIZATION=wrong)
    assert (refused.status_code, refused.json()["error"]) == (401, "Invalid user token.")
    garbled = client.get("/api/whoami-v2", HTTP_AUTHORIZATION="Basic !!!")
    assert garbled.status_code == 401
    assert garbled.json()["error"] == "Malformed Basic credentials; send a user name and a hub token as the password."
    no_password = "Basic " + base64.b64encode(b"tina").decode()
    assert client.get("/api/whoami-v2", HTTP_AUTHORIZATION=no_password).json()["error"] == (
        "Send a hub token as the password (Settings → Access tokens)."
    )
