"""Tiny model directories in the transformers layout, written by the training core: a decoder with
sharp random weights (so greedy paths are stable across implementations) and BERT encoders with
each head. The inference tests load them in the engine, in transformers, and through the hub."""

from __future__ import annotations

import random
from pathlib import Path

import torch

from training_runner.core.decoder import Decoder, DecoderConfig
from training_runner.core.encoder import Encoder, EncoderConfig
from training_runner.core.export import PIPELINE_TAGS
from training_runner.core.model import save_pretrained, write_generation_config
from training_runner.core.tokenizer import Tokenizer, train_bpe

GREEK = [
    "alpha",
    "beta",
    "gamma",
    "delta",
    "epsilon",
    "zeta",
    "eta",
    "theta",
    "iota",
    "kappa",
    "lambda",
    "mu",
    "nu",
    "xi",
    "omicron",
    "pi",
    "rho",
    "sigma",
    "tau",
    "upsilon",
    "phi",
    "chi",
    "psi",
    "omega",
]


def corpus(seed: int = 0, docs: int = 200) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choice(GREEK) for _ in range(rng.randint(8, 30))) for _ in range(docs)]


def tiny_tokenizer(kind: str) -> Tokenizer:
    return train_bpe(corpus(), vocab_size=320, kind=kind, model_max_length=128)


def card(pipeline_tag: str) -> str:
    return f"---\nlicense: apache-2.0\npipeline_tag: {pipeline_tag}\nlibrary_name: transformers\n---\n\n# tiny\n"


def write_decoder(
    path: Path,
    *,
    arch: str = "llama",
    chat: bool = True,
    seed: int = 0,
    scale: float = 10.0,
    context: int = 128,
    stops: bool = True,
) -> Path:
    """A decoder and its tokenizer; ``chat=False`` leaves the chat template out, ``stops=False``
    the eos ids of generation_config.json (generation then runs to its length limit)."""
    tokenizer = tiny_tokenizer("decoder")
    if not chat:
        tokenizer.chat_template = None
    torch.manual_seed(seed)
    cfg = DecoderConfig(
        arch=arch, vocab_size=tokenizer.vocab_size, hidden_size=32, num_layers=2, num_heads=4,
        num_kv_heads=2 if arch == "llama" else None, max_position_embeddings=context, tie_word_embeddings=False,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
    )  # fmt: skip
    model = Decoder(cfg).eval()
    with torch.no_grad():
        for p in model.parameters():
            if p.ndim == 2:
                p.mul_(scale)
    save_pretrained(model, path)
    write_generation_config(cfg, path, eos_token_id=[tokenizer.eos_token_id] if stops else [])
    tokenizer.save(path)
    (path / "README.md").write_text(card("text-generation"))
    return path


def write_encoder(path: Path, *, head: str, labels: tuple[str, ...] = ("negative", "positive"), seed: int = 0) -> Path:
    """A BERT encoder with ``head`` ("mlm", "classification" or "base") and its tokenizer."""
    tokenizer = tiny_tokenizer("encoder")
    torch.manual_seed(seed)
    cfg = EncoderConfig(
        vocab_size=tokenizer.vocab_size, hidden_size=32, num_layers=2, num_heads=4, max_position_embeddings=64,
        pad_token_id=tokenizer.pad_token_id, head=head, num_labels=len(labels),
        id2label=dict(enumerate(labels)), dropout=0.0, attention_dropout=0.0,
    )  # fmt: skip
    model = Encoder(cfg).eval()
    save_pretrained(model, path)
    tokenizer.save(path)
    tag = {"base": "sentence-similarity"}.get(head, PIPELINE_TAGS[head])
    (path / "README.md").write_text(card(tag))
    return path


def model_files(path: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(path.iterdir()) if p.is_file()}
