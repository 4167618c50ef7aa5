"""Rate limits on every surface: per user when authenticated, per client address otherwise (behind
HUB_TRUSTED_PROXIES only), 429 with Retry-After in the JSON error shape; the log-in form locks a
name out after repeated failures and says so."""

import pytest
from django.test import Client, RequestFactory
from rest_framework.test import APIClient

from common.throttling import client_ip
from tests.frontend.builders import commit_files, make_repo
from tests.support.factories import DEFAULT_PASSWORD, make_token, make_user

pytestmark = pytest.mark.django_db


def _limited(response) -> None:
    assert response.status_code == 429
    assert response.json()["code"] == "rate_limited"
    assert 1 <= int(response["Retry-After"]) <= 3600


def test_hf_api_is_throttled_per_address_for_anonymous_callers(settings):
    settings.HUB_THROTTLE_HF_ANON = "2/minute"
    client = Client()
    assert [client.get("/api/models").status_code for _ in range(2)] == [200, 200]
    _limited(client.get("/api/models"))
    assert client.get("/api/models", REMOTE_ADDR="10.0.0.2").status_code == 200


def test_hf_api_is_throttled_per_user_not_per_address(settings):
    settings.HUB_THROTTLE_HF_ANON = "1/minute"
    settings.HUB_THROTTLE_HF_USER = "3/minute"
    user = make_user("busy")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {make_token(user)}")
    # Different addresses, one user: one budget.
    assert [client.get("/api/whoami-v2", REMOTE_ADDR=f"10.0.0.{i}").status_code for i in range(3)] == [200] * 3
    _limited(client.get("/api/whoami-v2", REMOTE_ADDR="10.0.0.9"))
    # Anonymous callers at those addresses are not locked out by the user.
    assert Client().get("/api/models", REMOTE_ADDR="10.0.0.1").status_code == 200


def test_resolve_lfs_and_xet_are_throttled(settings):
    settings.HUB_THROTTLE_FILES_ANON = "1/minute"
    settings.HUB_THROTTLE_LFS_ANON = "1/minute"
    settings.HUB_THROTTLE_XET = "1/minute"
    alice = make_user("alice")
    commit_files(make_repo(alice, "tiny"), alice, {"a.txt": b"a\n"})
    client = Client()
    assert client.get("/alice/tiny/resolve/main/a.txt").status_code == 200
    _limited(client.get("/alice/tiny/resolve/main/a.txt"))
    batch = {"operation": "download", "objects": []}
    url = "/alice/tiny.git/info/lfs/objects/batch"
    assert client.post(url, batch, content_type="application/json").status_code == 200
    _limited(client.post(url, batch, content_type="application/json"))
    reconstruction = "/xet/v1/reconstructions/" + "0" * 64
    assert client.get(reconstruction).status_code == 401
    _limited(client.get(reconstruction))


def test_rest_address_budget_spares_authenticated_users(settings):
    settings.REST_FRAMEWORK = settings.REST_FRAMEWORK | {
        "DEFAULT_THROTTLE_RATES": {"user": "100/minute", "ip": "1/minute"}
    }
    anonymous = APIClient()
    assert anonymous.get("/api/v1/users/nobody").status_code == 404
    _limited(anonymous.get("/api/v1/users/nobody"))
    member = APIClient()
    member.force_authenticate(make_user("neighbour"))
    assert [member.get("/api/v1/me").status_code for _ in range(3)] == [200, 200, 200]


def test_forwarded_for_is_ignored_without_trusted_proxies(settings):
    settings.HUB_THROTTLE_HF_ANON = "1/minute"
    client = Client()
    assert client.get("/api/models", HTTP_X_FORWARDED_FOR="1.1.1.1").status_code == 200
    _limited(client.get("/api/models", HTTP_X_FORWARDED_FOR="2.2.2.2"))


def test_trusted_proxies_name_the_client_and_forged_hops_are_ignored(settings):
    settings.HUB_TRUSTED_PROXIES = 1
    settings.HUB_THROTTLE_HF_ANON = "1/minute"
    client = Client(REMOTE_ADDR="10.0.0.1")  # the proxy
    assert client.get("/api/models", HTTP_X_FORWARDED_FOR="203.0.113.5").status_code == 200
    # The client forges a first hop; the proxy appended the real address last.
    _limited(client.get("/api/models", HTTP_X_FORWARDED_FOR="198.51.100.1, 203.0.113.5"))
    assert client.get("/api/models", HTTP_X_FORWARDED_FOR="203.0.113.6").status_code == 200


def test_client_ip_counts_hops_from_the_right(settings):
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 1.2.3.4, 10.0.0.1")
    settings.HUB_TRUSTED_PROXIES = 0
    assert client_ip(request) == "10.0.0.2"
    settings.HUB_TRUSTED_PROXIES = 1
    assert client_ip(request) == "10.0.0.1"
    settings.HUB_TRUSTED_PROXIES = 2
    assert client_ip(request) == "1.2.3.4"
    settings.HUB_TRUSTED_PROXIES = 9
    assert client_ip(request) == "6.6.6.6"


def test_login_locks_a_name_out_after_failures_and_says_so(settings):
    settings.HUB_LOGIN_MAX_FAILURES = 3
    make_user("tina")
    client = Client()
    wrong = {"username": "tina", "password": "wrong-password"}
    assert [client.post("/login", wrong).status_code for _ in range(2)] == [200, 200]
    locked = client.post("/login", wrong)
    assert locked.status_code == 429
    assert 890 <= int(locked["Retry-After"]) <= 901
    assert "Too many failed log-ins" in locked.content.decode()
    # Even the right password is not checked while locked, from any address.
    right = client.post("/login", {"username": "tina", "password": DEFAULT_PASSWORD}, REMOTE_ADDR="10.0.0.7")
    assert right.status_code == 429
    assert "_auth_user_id" not in client.session
    # Another name is not locked.
    make_user("uma")
    assert client.post("/login", {"username": "uma", "password": DEFAULT_PASSWORD}).status_code == 302


def test_successful_login_clears_the_failures(settings):
    settings.HUB_LOGIN_MAX_FAILURES = 2
    make_user("tina")
    client = Client()
    assert client.post("/login", {"username": "tina", "password": "nope-nope"}).status_code == 200
    assert client.post("/login", {"username": "tina", "password": DEFAULT_PASSWORD}).status_code == 302
    assert client.post("/login", {"username": "tina", "password": "nope-nope"}).status_code == 200


def test_signups_are_throttled_per_address(settings):
    settings.HUB_THROTTLE_SIGNUP = "1/hour"
    form = {"username": "first", "email": "first@example.org", "password": DEFAULT_PASSWORD, "fullname": ""}
    assert Client().post("/join", form).status_code == 302
    refused = Client().post("/join", form | {"username": "second", "email": "second@example.org"})
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) >= 1
    api = {"username": "third", "email": "third@example.org", "password": DEFAULT_PASSWORD}
    _limited(APIClient().post("/api/v1/users", api, format="json"))
