"""Inference speed: our engine vs transformers ``generate`` on the same model and prompt, same run.

    .venv/bin/python benchmarks/inference.py [--repeat 7] [--threads 1]

Two models, seeded random weights saved once in the transformers layout and loaded by both sides:

* ``demo``: the demo's ``pocket-llama`` shape (Llama, 3 layers, hidden 96, 4 heads / 2 key-value
  heads, 128-token context) with a 2,048-token byte-level BPE trained on the data kit's Wikipedia
  text (or a small built-in corpus when the kit is absent);
* ``small``: Llama, 4 layers, hidden 256, 1,024-token context, the same tokenizer.

Decode tokens/s: greedy generation of exactly ``N`` new tokens (no eos in the generation config,
so both run to the limit), best of ``--repeat``. Ours runs the engine's whole text path
(``text.generate_events``: KV cache, incremental detokenisation, stop-string checks); transformers
runs ``model.generate(do_sample=False)`` and returns ids only. The two alternate repetition by
repetition, so load from other processes falls on both; the first token of each side's greedy
path is checked equal.

Time to first token (``demo`` model, loaded): from sending a streamed ``/generate`` request to the
engine's HTTP server (in a thread of this process, through ``EngineClient``) to the first text
event; median of 20. Then the same through a whole hub: a web process (uvicorn on
``config.asgi``, as ``make serve`` runs it) and an engine process (``manage.py inference_engine``)
on one throwaway data folder, the model uploaded with ``huggingface_hub`` and its playground
switched on; from sending a streamed request to the hub (REST ``/generate`` and OpenAI
``/v1/completions``, with a bearer token) to the first text event.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import torch

os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.hubserver import free_port, running_hub
from training_runner.core.decoder import Decoder, DecoderConfig
from training_runner.core.generate import generate
from training_runner.core.model import save_pretrained, write_generation_config
from training_runner.core.tokenizer import train_bpe
from training_runner.engine.client import EngineClient
from training_runner.engine.loaded import load_model_dir
from training_runner.engine.params import GenerateParams, Sampling
from training_runner.engine.server import EngineServer
from training_runner.engine.text import generate_events

SHAPES = {
    "demo": {"hidden_size": 96, "num_layers": 3, "num_heads": 4, "num_kv_heads": 2, "max_position_embeddings": 128},
    "small": {"hidden_size": 256, "num_layers": 4, "num_heads": 4, "num_kv_heads": 4, "max_position_embeddings": 1024},
}
NEW_TOKENS = {"demo": 100, "small": 256}
PROMPT = "The history of the city begins with"


def corpus() -> list[str]:
    kit = Path(os.environ.get("HUB_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
    wiki = kit / "wiki" / "train.txt"
    if wiki.exists():
        return [p for p in wiki.read_text(encoding="utf-8").split("\n\n") if p.strip()][:3000]
    words = [
        "the",
        "city",
        "river",
        "army",
        "album",
        "species",
        "history",
        "war",
        "released",
        "found",
        "flows",
        "number",
        "prime",
    ]
    return [" ".join(words[(i * 7 + j) % len(words)] for j in range(40)) for i in range(2000)]


def build(directory: Path, shape: dict, tokenizer) -> Path:
    torch.manual_seed(0)
    cfg = DecoderConfig(arch="llama", vocab_size=tokenizer.vocab_size, tie_word_embeddings=True, **shape)
    save_pretrained(Decoder(cfg).eval(), directory)
    write_generation_config(cfg, directory, eos_token_id=[])
    tokenizer.save(directory)
    return directory


def decode_speeds(path: Path, new: int, repeat: int) -> tuple[float, float]:
    """(ours, transformers) tokens/s, best of ``repeat``; the two alternate, so both see the same load."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    loaded = load_model_dir(path, key="bench")
    params = GenerateParams(prompt=PROMPT, sampling=Sampling(max_new_tokens=new, temperature=0.0))
    tokenizer = AutoTokenizer.from_pretrained(path)
    reference = AutoModelForCausalLM.from_pretrained(path).eval()
    ids = tokenizer(PROMPT, return_tensors="pt").input_ids
    assert ids[0].tolist() == loaded.tokenizer.encode(PROMPT)
    ours = theirs = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        *_, end = generate_events(loaded, params)
        ours = min(ours, time.perf_counter() - start)
        start = time.perf_counter()
        out = reference.generate(ids, max_new_tokens=new, do_sample=False, pad_token_id=0)
        theirs = min(theirs, time.perf_counter() - start)
    assert end["usage"]["completion_tokens"] == new, end["usage"]
    assert out.shape[1] == ids.shape[1] + new, out.shape
    first = generate(loaded.model, ids[0].tolist(), max_new_tokens=1, temperature=0.0)[0, -1]
    assert int(first) == int(out[0, ids.shape[1]]), "the two greedy paths start differently"
    return new / ours, new / theirs


def time_to_first_token(path: Path, samples: int = 20) -> float:
    server = EngineServer(("127.0.0.1", 0), resolve=lambda key: path, capacity_bytes=1 << 30, token="bench")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    client = EngineClient(f"http://127.0.0.1:{server.server_address[1]}", token="bench")
    body = {"model": "demo", "prompt": PROMPT, "sampling": {"max_new_tokens": 32, "temperature": 0.7, "seed": 1}}
    client.call("/generate", body)  # loads the model
    times = []
    for _ in range(samples):
        start = time.perf_counter()
        stream = client.stream("/generate", body)
        next(event for event in stream if event["type"] == "text")
        times.append(time.perf_counter() - start)
        stream.close()
    server.shutdown()
    server.server_close()
    return statistics.median(times)


def _first_text(url: str, body: dict, token: str, marker: bytes) -> float:
    """Seconds from sending a streamed POST to reading the first line that holds ``marker``."""
    import http.client
    import json
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    start = time.perf_counter()
    connection.request("POST", parts.path, body=json.dumps(body), headers=headers)
    response = connection.getresponse()
    if response.status != 200:
        raise RuntimeError(f"{url} answered {response.status}: {response.read()[:300]!r}")
    while line := response.readline():
        if marker in line:
            elapsed = time.perf_counter() - start
            break
    else:
        raise RuntimeError(f"{url} sent no text event")
    connection.close()
    return elapsed


def hub_time_to_first_token(path: Path, samples: int = 20) -> dict[str, float]:
    """Median time to first token through a web process and an engine process (see the docstring)."""
    import subprocess

    from huggingface_hub import HfApi

    (path / "README.md").write_text("---\nlicense: mit\npipeline_tag: text-generation\n---\n# demo\n")
    engine_port = free_port()
    env = {"HUB_INFERENCE_ENGINE_URL": f"http://127.0.0.1:{engine_port}", "HUB_INFERENCE_THREADS": "1"}
    with tempfile.TemporaryDirectory(prefix="inference-hub-") as data, running_hub(Path(data), env=env) as hub:
        manage = [sys.executable, "manage.py"]
        environment = {**os.environ, "HUB_DATA_DIR": data, "LOG_LEVEL": "WARNING", **env}
        environment.pop("DATABASE_URL", None)
        root = Path(__file__).resolve().parents[1]
        api = HfApi(endpoint=hub.url, token=hub.token)
        api.create_repo("bench/demo")
        api.upload_folder(repo_id="bench/demo", folder_path=path)
        switch_on = (
            "from hub.models import User; from training_runner.inference.services.playgrounds import playground_set;"
            "playground_set(user=User.objects.get(username='bench'), namespace='bench', name='demo', enabled=True)"
        )
        subprocess.run([*manage, "shell", "-v", "0", "-c", switch_on], env=environment, check=True, cwd=root)
        engine = subprocess.Popen(
            [*manage, "inference_engine", "--host", "127.0.0.1", "--port", str(engine_port)], env=environment, cwd=root
        )
        try:
            client = EngineClient(env["HUB_INFERENCE_ENGINE_URL"], token="unused", timeout=2)
            for _ in range(300):
                try:
                    client.health()
                    break
                except Exception:
                    time.sleep(0.1)
            rest = (f"{hub.url}/api/v1/models/bench/demo/generate", b'"text"')
            openai = (f"{hub.url}/v1/completions", b'"text"')
            bodies = {
                rest: {"prompt": PROMPT, "max_new_tokens": 32, "temperature": 0.7, "seed": 1, "stream": True},
                openai: {"model": "bench/demo", "prompt": PROMPT, "max_tokens": 32, "temperature": 0.7, "stream": True},
            }
            for url, marker in bodies:  # the first call loads the model
                _first_text(url, bodies[(url, marker)], hub.token, marker)
            times: dict[tuple, list[float]] = {key: [] for key in bodies}
            for _ in range(samples):  # alternate, so load falls on both
                for key, body in bodies.items():
                    times[key].append(_first_text(key[0], body, hub.token, key[1]))
            medians = {key: statistics.median(values) for key, values in times.items()}
            return {"REST /generate": medians[rest], "/v1/completions": medians[openai]}
        finally:
            engine.terminate()
            if engine.wait(timeout=60) != 0:
                print(f"the engine exited with status {engine.returncode}", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--threads", type=int, default=1, help="PyTorch threads for both sides")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    tokenizer = train_bpe(corpus(), vocab_size=2048, kind="decoder", model_max_length=1024)
    with tempfile.TemporaryDirectory(prefix="inference-bench-") as tmp:
        paths = {name: build(Path(tmp) / name, shape, tokenizer) for name, shape in SHAPES.items()}
        print(f"torch {torch.__version__}, {args.threads} thread(s), greedy, best of {args.repeat}")
        print("| model | new tokens | ours tokens/s | transformers tokens/s | ratio |")
        print("|---|---|---|---|---|")
        for name, path in paths.items():
            new = NEW_TOKENS[name]
            ours, theirs = decode_speeds(path, new, args.repeat)
            print(f"| {name} | {new} | {ours:.0f} | {theirs:.0f} | {ours / theirs:.2f}× |")
        ttft = time_to_first_token(paths["demo"])
        print(f"time to first token, demo model, loaded, via the engine's HTTP server: {ttft * 1000:.1f} ms (median)")
        for face, seconds in hub_time_to_first_token(paths["demo"]).items():
            print(f"time to first token, demo model, loaded, through the hub ({face}): {seconds * 1000:.1f} ms")


if __name__ == "__main__":
    main()
