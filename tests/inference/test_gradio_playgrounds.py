"""``gradio_client`` drives each playground kind against the live hub (uvicorn: Django and the
Gradio playgrounds on one origin) with a real engine process behind it."""

from __future__ import annotations

import itertools
import urllib.error
import urllib.request

import pytest
from gradio_client import Client

from tests.support.factories import make_user
from tests.support.inference import publish_model

pytestmark = [pytest.mark.live, pytest.mark.slow]


@pytest.fixture
def playgrounds(live_inference, hub_url, model_dirs):
    alice = make_user("alice")
    publish_model(alice, "tiny-llama", model_dirs["llama"])
    publish_model(alice, "tiny-bert", model_dirs["mlm"])
    publish_model(alice, "tiny-sentiment", model_dirs["classify"])
    embed = publish_model(alice, "tiny-embed", model_dirs["embed"])
    assert embed.pipeline_tag == "sentence-similarity"
    publish_model(alice, "secret", model_dirs["llama2"], private=True)
    return alice


REFUSED = r"Could not|credentials|401"  # gradio_client's words for a 401 from the auth dependency


def connect(hub_url: str, path: str, cookie: str | None = None) -> Client:
    headers = {"Cookie": f"sessionid={cookie}"} if cookie else None
    return Client(f"{hub_url}/playground/{path}/", headers=headers, verbose=False, analytics_enabled=False)


def test_text_generation_streams_and_ends_on_the_greedy_text(playgrounds, hub_url, client):
    playground = connect(hub_url, "text-generation/alice/tiny-llama")
    arguments = ("alpha beta", 24, 0.0, 0, 1.0, 1.0, -1)
    job = playground.submit(*arguments, api_name="/generate")
    updates = list(job)
    final = playground.predict(*arguments, api_name="/generate")
    expected = client.post(
        "/api/v1/models/alice/tiny-llama/generate",
        data={"prompt": "alpha beta", "max_new_tokens": 24, "temperature": 0},
        content_type="application/json",
    ).json()["text"]
    assert final == expected
    assert updates[-1] == expected
    assert len(updates) >= 3
    assert all(later.startswith(earlier) for earlier, later in itertools.pairwise(updates))


def test_encoder_playgrounds(playgrounds, hub_url):
    masks = connect(hub_url, "fill-mask/alice/tiny-bert").predict("alpha <mask> gamma", 3, api_name="/fill_mask")
    assert len(masks["confidences"]) == 3
    assert masks["label"] == masks["confidences"][0]["label"]
    labels = connect(hub_url, "text-classification/alice/tiny-sentiment").predict("alpha beta", api_name="/classify")
    assert sorted(c["label"] for c in labels["confidences"]) == ["negative", "positive"]
    similar = connect(hub_url, "sentence-similarity/alice/tiny-embed").predict(
        "alpha beta", "alpha beta\ngamma delta", api_name="/similarity"
    )
    scores = {c["label"]: c["confidence"] for c in similar["confidences"]}
    assert scores["alpha beta"] == pytest.approx(1.0, abs=1e-4)
    assert set(scores) == {"alpha beta", "gamma delta"}


def test_private_playgrounds_need_a_reader_session(playgrounds, hub_url, client):
    with pytest.raises(Exception, match=REFUSED):
        connect(hub_url, "text-generation/alice/secret")
    client.force_login(playgrounds)
    session = client.cookies["sessionid"].value
    reply = connect(hub_url, "text-generation/alice/secret", session).predict(
        "alpha", 4, 0.0, 0, 1.0, 1.0, -1, api_name="/generate"
    )
    assert isinstance(reply, str)
    client.force_login(make_user("bob"))
    with pytest.raises(Exception, match=REFUSED):
        connect(hub_url, "text-generation/alice/secret", client.cookies["sessionid"].value)
    with pytest.raises(Exception, match=REFUSED):
        connect(hub_url, "fill-mask/alice/tiny-llama")  # the path's pipeline must be the model's


def fetch(url: str, **headers) -> tuple[int, dict]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers)


def test_the_router_guards_what_django_would(playgrounds, hub_url, settings):
    status, headers = fetch(f"{hub_url}/playground/text-generation/alice/tiny-llama/")
    assert status == 200
    assert headers["content-security-policy"].startswith("default-src 'self'; script-src 'self' 'unsafe-inline';")
    assert "'unsafe-eval'" not in headers["content-security-policy"]
    assert headers["x-frame-options"] == "SAMEORIGIN"
    status, headers = fetch(
        f"{hub_url}/playground/text-generation/alice/tiny-llama/config", Origin="https://evil.example"
    )
    assert "access-control-allow-origin" not in {k.lower() for k in headers}
    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    assert fetch(f"{hub_url}/playground/text-generation/alice/tiny-llama/", Host="evil.example")[0] == 400
    settings.ALLOWED_HOSTS = ["*"]
    status, headers = fetch(f"{hub_url}/playground/text-generation/alice/tiny-llama")
    assert status == 200  # urllib followed the 308 to the path with its trailing slash
    assert fetch(f"{hub_url}/playground/no-such-kind/alice/tiny-llama/")[0] == 404
    status, headers = fetch(f"{hub_url}/playground/text-generation/alice/secret/")
    assert status == 401


def test_playgrounds_under_a_path_prefix(playgrounds, hub_url, settings):
    """With HUB_PATH_PREFIX the proxy passes ``/hub/playground/…`` on; the playground answers there
    and its page loads its assets from under the prefix."""
    settings.FORCE_SCRIPT_NAME = "/hub"
    request = urllib.request.Request(f"{hub_url}/hub/playground/text-generation/alice/tiny-llama/")
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
        page = response.read().decode()
    assert "/hub/playground/text-generation/alice/tiny-llama" in page
    assert fetch(f"{hub_url}/hub/playground/text-generation/alice/tiny-llama")[0] == 200  # the 308 keeps the prefix
    assert fetch(f"{hub_url}/hub/alice/tiny-llama")[0] == 200  # Django behind the same router
