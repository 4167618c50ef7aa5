"""The REST inference API over a real engine process: each operation, streaming, and bad input
answered with a 4xx in the one JSON error shape while the engine stays up."""

from __future__ import annotations

import json

import pytest

from tests.support.factories import make_token, make_user
from tests.support.inference import publish_model
from training_runner.engine.client import EngineClient
from training_runner.inference.engine import engine_token

pytestmark = [pytest.mark.live, pytest.mark.slow]


@pytest.fixture
def models(live_inference, model_dirs):
    alice = make_user("alice")
    repos = {
        "llama": publish_model(alice, "tiny-llama", model_dirs["llama"]),
        "mlm": publish_model(alice, "tiny-bert", model_dirs["mlm"]),
        "classify": publish_model(alice, "tiny-sentiment", model_dirs["classify"]),
        "embed": publish_model(alice, "tiny-embed", model_dirs["embed"]),
        "off": publish_model(alice, "switched-off", model_dirs["llama"], enable=False),
        "secret": publish_model(alice, "secret", model_dirs["llama"], private=True),
    }
    return alice, repos


def post(client, url, body, **headers):
    return client.post(url, data=json.dumps(body), content_type="application/json", **headers)


def test_generate_whole_and_streamed(client, models):
    _alice, repos = models
    body = {"prompt": "alpha beta", "max_new_tokens": 12, "temperature": 0}
    whole = post(client, "/api/v1/models/alice/tiny-llama/generate", body)
    assert whole.status_code == 200
    data = whole.json()
    assert (data["model"], data["commit"]) == (
        "alice/tiny-llama",
        repos["llama"].refs.get(name="refs/heads/main").target_oid,
    )
    assert data["usage"]["completion_tokens"] == 12 or data["finish_reason"] == "stop"

    streamed = post(client, "/api/v1/models/alice/tiny-llama/generate", {**body, "stream": True})
    assert streamed["Content-Type"] == "application/x-ndjson"
    events = [json.loads(line) for line in b"".join(streamed.streaming_content).splitlines()]
    assert events[-1] == {
        "type": "end",
        "text": data["text"],
        "finish_reason": data["finish_reason"],
        "usage": data["usage"],
    }
    assert "".join(e["text"] for e in events[:-1]) == data["text"]

    beams = post(client, "/api/v1/models/alice/tiny-llama/generate", {**body, "num_beams": 3})
    assert beams.status_code == 200
    assert beams.json()["usage"]["prompt_tokens"] == data["usage"]["prompt_tokens"]


def test_encoder_operations(client, models):
    masks = post(client, "/api/v1/models/alice/tiny-bert/fill-mask", {"inputs": "alpha <mask> gamma", "top_k": 3})
    assert masks.status_code == 200
    assert [len(m) for m in masks.json()["predictions"]] == [3]
    labels = post(client, "/api/v1/models/alice/tiny-sentiment/classify", {"inputs": ["alpha", "beta"]}).json()
    assert [sorted(row["label"] for row in rows) for rows in labels["labels"]] == [["negative", "positive"]] * 2
    vectors = post(client, "/api/v1/models/alice/tiny-embed/embed", {"inputs": ["alpha", "beta"]}).json()
    assert [len(v) for v in vectors["embeddings"]] == [32, 32]
    scores = post(client, "/api/v1/models/alice/tiny-embed/embed", {"source": "alpha", "sentences": ["alpha", "beta"]})
    assert scores.json()["scores"][0] == pytest.approx(1.0, abs=1e-5)


BAD = [
    ("tiny-llama/generate", {"prompt": ""}, 400, "invalid", "prompt must not be empty"),
    (
        "tiny-llama/generate",
        {"prompt": "a", "max_new_tokens": 0},
        400,
        "invalid",
        "max_new_tokens must be in [1, 1024]; got 0",
    ),
    (
        "tiny-llama/generate",
        {"prompt": "a", "max_new_tokens": 100000},
        400,
        "invalid",
        "max_new_tokens must be in [1, 1024]; got 100000",
    ),
    ("tiny-llama/generate", {"prompt": "a", "temperature": "hot"}, 400, "invalid", "temperature must be a number"),
    ("tiny-llama/generate", {"prompt": "a", "colour": "red"}, 400, "invalid", "unknown sampling parameters: colour"),
    (
        "tiny-llama/generate",
        {"prompt": "x" * 40_000},
        413,
        "too_large",
        "prompt is 40000 characters; the limit is 32000",
    ),
    (
        "tiny-llama/generate",
        {"prompt": "alpha " * 200},
        400,
        "invalid",
        "the prompt is 201 tokens; this model reads at most 127 before it must generate",
    ),
    ("nope/generate", {"prompt": "a"}, 404, "repo_not_found", "Repository alice/nope not found."),
    ("secret/generate", {"prompt": "a"}, 404, "repo_not_found", "Repository alice/secret not found."),
    (
        "switched-off/generate",
        {"prompt": "a"},
        403,
        "inference_disabled",
        "Inference is off for alice/switched-off; its admins can turn it on in the Playground tab.",
    ),
    (
        "tiny-bert/generate",
        {"prompt": "a"},
        400,
        "unsupported_pipeline",
        "alice/tiny-bert is a fill-mask model: use its 'fill-mask' operation.",
    ),
    ("tiny-bert/fill-mask", {"inputs": "no mask here"}, 400, "invalid", "the text must contain the mask token <mask>"),
    ("tiny-bert/fill-mask", {"inputs": "a <mask>", "top_k": 0}, 400, "invalid", "top_k must be in [1, 50]; got 0"),
    ("tiny-sentiment/classify", {"inputs": []}, 400, "invalid", "inputs must be a non-empty list of strings"),
    ("tiny-embed/embed", {"inputs": ["a"] * 33}, 413, "too_large", "inputs holds 33 texts; the limit is 32"),
]


def test_bad_input_gets_a_4xx_in_the_error_shape_and_the_engine_stays_up(client, models, live_inference):
    for path, body, status, code, message in BAD:
        response = post(client, f"/api/v1/models/alice/{path}", body)
        assert (response.status_code, response.json()["code"], response.json()["error"]) == (status, code, message), (
            path
        )
    huge = client.post(
        "/api/v1/models/alice/tiny-llama/generate", data=b"{}", content_type="application/json",
        CONTENT_LENGTH=str(2 * 1024 * 1024),
    )  # fmt: skip
    assert huge.status_code == 413
    assert huge.json() == {"error": "The request body is 2097152 bytes; the limit is 1048576.", "code": "too_large"}
    not_json = client.post("/api/v1/models/alice/tiny-llama/generate", data=b"[1]", content_type="application/json")
    assert not_json.json() == {"error": "The request body must be a JSON object.", "code": "invalid"}
    assert EngineClient(live_inference, token=engine_token()).health()["status"] == "ok"
    assert post(client, "/api/v1/models/alice/tiny-llama/generate", {"prompt": "alpha"}).status_code == 200


def test_private_models_answer_their_readers_only(client, models):
    alice, repos = models
    auth = {"HTTP_AUTHORIZATION": f"Bearer {make_token(alice)}"}
    assert post(client, "/api/v1/models/alice/secret/generate", {"prompt": "alpha"}, **auth).status_code == 200
    bob = {"HTTP_AUTHORIZATION": f"Bearer {make_token(make_user('bob'))}"}
    assert post(client, "/api/v1/models/alice/secret/generate", {"prompt": "alpha"}, **bob).status_code == 404
    bad = post(client, "/api/v1/models/alice/tiny-llama/generate", {"prompt": "a"}, HTTP_AUTHORIZATION="Bearer hub_x")
    assert (bad.status_code, bad.json()["code"]) == (401, "invalid_token")
    gated = repos["llama"]
    gated.gated = "manual"
    gated.save(update_fields=["gated"])
    refused = post(client, "/api/v1/models/alice/tiny-llama/generate", {"prompt": "alpha"}, **bob)
    assert (refused.status_code, refused.json()["code"]) == (403, "gated_repo")
    assert post(client, "/api/v1/models/alice/tiny-llama/generate", {"prompt": "alpha"}, **auth).status_code == 200


def test_inference_requests_are_rate_limited(client, models, settings):
    settings.HUB_INFERENCE_THROTTLE_IP = "2/hour"
    for _ in range(2):
        assert (
            post(client, "/api/v1/models/alice/tiny-llama/generate", {"prompt": "a", "max_new_tokens": 1}).status_code
            == 200
        )
    limited = post(client, "/api/v1/models/alice/tiny-llama/generate", {"prompt": "a", "max_new_tokens": 1})
    assert (limited.status_code, limited.json()["code"]) == (429, "rate_limited")
