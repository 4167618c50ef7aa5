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
event; median of 20.
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


if __name__ == "__main__":
    main()
