"""The HF-compatible account endpoints, driven by the real huggingface_hub client."""

import pytest
from huggingface_hub import HfApi
from huggingface_hub.errors import HfHubHTTPError

from tests.support.factories import make_org, make_token, make_user

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


def test_whoami_through_the_real_client(live_server):
    alice = make_user("alice", fullname="Alice Liddell")
    make_org("wonderland", admin=alice)
    secret = make_token(alice, role="write", name="laptop")
    info = HfApi(endpoint=live_server.url, token=secret).whoami()
    assert info["name"] == "alice"
    assert info["fullname"] == "Alice Liddell"
    assert info["type"] == "user"
    assert [org["name"] for org in info["orgs"]] == ["wonderland"]
    assert info["auth"]["accessToken"] == {"displayName": "laptop", "role": "write"}


def test_bad_token_raises_the_clients_401(live_server):
    with pytest.raises(HfHubHTTPError) as raised:
        HfApi(endpoint=live_server.url, token="hub_not-a-real-token").whoami()
    assert raised.value.response.status_code == 401
    assert "Invalid user token" in str(raised.value)


def test_whoami_without_token_is_401_json(client):
    response = client.get("/api/whoami-v2")
    assert response.status_code == 401
    assert response.json() == {
        "error": "You must be authenticated: pass a token (Authorization: Bearer …).",
        "code": "unauthenticated",
    }


def test_agent_harnesses(client):
    response = client.get("/api/agent-harnesses")
    assert response.status_code == 200
    assert response.json() == {"standardEnvVars": [], "harnesses": {}}


def test_hf_endpoint_refuses_other_methods(client):
    response = client.post("/api/whoami-v2")
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"
