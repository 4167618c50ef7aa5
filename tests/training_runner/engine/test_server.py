"""The engine's HTTP server through its one client: streams, errors in the JSON shape, auth, and a
server that stays up whatever it is sent."""

from __future__ import annotations

import http.client
import json
import signal
import subprocess
import sys
import threading

import pytest

from training_runner.engine.client import EngineClient, EngineUnavailable
from training_runner.engine.errors import EngineBusy, InvalidRequest, ModelUnavailable, NoChatTemplate, UnsupportedModel
from training_runner.engine.server import EngineServer

TOKEN = "engine-test-token"


@pytest.fixture
def engine(model_dirs):
    def resolve(key):
        if key not in model_dirs:
            raise ModelUnavailable(f"no model {key}")
        return model_dirs[key]

    server = EngineServer(("127.0.0.1", 0), resolve=resolve, capacity_bytes=64 << 20, token=TOKEN, max_concurrent=1,
                          queue_timeout=0.2)  # fmt: skip
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server, EngineClient(f"http://127.0.0.1:{server.server_address[1]}", token=TOKEN, timeout=30)
    server.shutdown()
    server.server_close()


def generate_body(**sampling):
    sampling = {"max_new_tokens": 20, "temperature": 0.0, **sampling}
    return {"model": "llama", "prompt": "alpha beta", "sampling": sampling}


def test_streamed_and_whole_generation_agree(engine):
    _server, client = engine
    events = list(client.stream("/generate", generate_body()))
    whole = client.call("/generate", generate_body())
    assert events[-1] == {"type": "end", **{k: whole[k] for k in ("text", "finish_reason", "usage")}}
    assert "".join(e["text"] for e in events[:-1]) == whole["text"]
    assert whole["usage"]["completion_tokens"] == 20


def test_encoder_operations(engine):
    _server, client = engine
    masks = client.call("/fill-mask", {"model": "mlm", "inputs": "alpha <mask>", "top_k": 2})["predictions"]
    assert [len(m) for m in masks] == [2]
    labels = client.call("/classify", {"model": "classify", "inputs": ["alpha"]})["labels"]
    assert sorted(label["label"] for label in labels[0]) == ["negative", "positive"]
    vectors = client.call("/embed", {"model": "embed", "inputs": ["alpha", "beta"]})["embeddings"]
    assert [len(v) for v in vectors] == [32, 32]
    scores = client.call("/similarity", {"model": "embed", "source": "alpha", "sentences": ["alpha"]})["scores"]
    assert scores == [pytest.approx(1.0, abs=1e-5)]


def test_bad_requests_get_their_error_and_the_server_stays_up(engine):
    server, client = engine
    with pytest.raises(InvalidRequest, match=r"max_new_tokens must be in \[1, 1024\]; got 0") as caught:
        client.call("/generate", generate_body(max_new_tokens=0))
    assert (caught.value.status, caught.value.field) == (400, "max_new_tokens")
    with pytest.raises(ModelUnavailable, match="no model nope"):
        client.call("/generate", {**generate_body(), "model": "nope"})
    with pytest.raises(UnsupportedModel, match="this model does fill-mask, not text-generation"):
        list(client.stream("/generate", {**generate_body(), "model": "mlm"}))
    with pytest.raises(NoChatTemplate, match="this model has no chat template"):
        list(client.stream("/generate", {"model": "nochat", "messages": [{"role": "user", "content": "hi"}]}))

    port = server.server_address[1]
    for body, headers, status in [
        (b"{not json", {}, 400),
        (b"[1, 2]", {}, 400),
        (None, {"Content-Length": str(1024 * 1024 + 1)}, 413),  # refused before the body is read
        (json.dumps(generate_body()).encode(), {"Authorization": "Bearer wrong"}, 401),
    ]:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.putrequest("POST", "/generate")
        sent = {"Authorization": f"Bearer {TOKEN}", "Content-Length": str(len(body or b"")), **headers}
        for name, value in sent.items():
            connection.putheader(name, value)
        connection.endheaders(body)
        response = connection.getresponse()
        assert response.status == status
        assert set(json.loads(response.read())) >= {"error", "code"}
        connection.close()
    assert client.health()["status"] == "ok"
    assert client.call("/generate", generate_body())["usage"]["completion_tokens"] == 20


def test_a_client_leaving_mid_stream_frees_its_slot(engine):
    _server, client = engine
    body = {**generate_body(max_new_tokens=1024, temperature=1.0, seed=1), "model": "long"}
    stream = client.stream("/generate", body)
    assert next(stream)["type"] == "text"
    with pytest.raises(EngineBusy, match="every generation slot stayed busy"):
        client.call("/generate", generate_body())
    stream.close()
    assert client.call("/generate", generate_body())["usage"]["completion_tokens"] == 20


def test_an_absent_engine_is_reported():
    client = EngineClient("http://127.0.0.1:9", token=TOKEN, timeout=2)
    with pytest.raises(EngineUnavailable, match="the inference engine is not reachable"):
        client.call("/generate", generate_body())


def test_sigterm_stops_the_engine_cleanly():
    script = (
        "import logging, sys; from pathlib import Path; logging.basicConfig(stream=sys.stdout, level=logging.INFO);"
        "from training_runner.engine.server import serve;"
        "serve(host='127.0.0.1', port=0, resolve=Path, capacity_bytes=1 << 20, token='t')"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert "listening on" in proc.stdout.readline()
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
    assert "inference engine stopping" in out
