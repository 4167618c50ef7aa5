"""Generation with the KV cache: exactness against full recomputation and against transformers."""

from __future__ import annotations

import math
from pathlib import Path

import torch
from transformers import GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM

from training_runner.core.decoder import Decoder, DecoderConfig
from training_runner.core.generate import generate, sample_next, stream_generate
from training_runner.core.model import load_pretrained


def scaled_model(arch: str = "llama", **overrides) -> Decoder:
    torch.manual_seed(0)
    cfg = DecoderConfig(
        arch=arch, vocab_size=61, hidden_size=32, num_layers=2, num_heads=4, max_position_embeddings=64, **overrides
    )
    model = Decoder(cfg).eval()
    with torch.no_grad():  # sharper distributions than the training init, so greedy paths are stable
        for p in model.parameters():
            if p.ndim == 2:
                p.mul_(10)
    return model


def prompt(length: int, seed: int = 0, batch: int = 1) -> torch.Tensor:
    return torch.randint(0, 61, (batch, length), generator=torch.Generator().manual_seed(seed))


def test_cached_decoding_matches_full_recomputation() -> None:
    for arch in ("llama", "gpt2"):
        model = scaled_model(arch, num_kv_heads=2 if arch == "llama" else None)
        ids = prompt(20, batch=2)
        with torch.no_grad():
            full = model(ids)  # (2, 20, V)
            cache = model.new_kv_cache(2, 20)
            first = model(ids[:, :12], kv_cache=cache)
            steps = [model(ids[:, t : t + 1], kv_cache=cache) for t in range(12, 20)]
        cached = torch.cat([first, *steps], dim=1)
        assert cache.length == 20
        assert (full - cached).abs().max().item() <= 1e-5


def test_greedy_generation_matches_transformers(tmp_path: Path) -> None:
    torch.manual_seed(0)
    references = {
        "llama": LlamaForCausalLM(
            LlamaConfig(
                vocab_size=61, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
                num_key_value_heads=2, max_position_embeddings=64, bos_token_id=None, eos_token_id=None,
            )
        ),
        "gpt2": GPT2LMHeadModel(
            GPT2Config(n_layer=2, n_embd=32, n_head=4, vocab_size=61, n_positions=64, bos_token_id=0, eos_token_id=0)
        ),
    }  # fmt: skip
    for name, ref in references.items():
        with torch.no_grad():
            for p in ref.parameters():
                p.copy_(torch.randn(p.shape) * (0.5 if p.ndim == 2 else 0.1) + (1.0 if p.ndim == 1 else 0.0))
        ref.eval().save_pretrained(tmp_path / name)
        ours = load_pretrained(tmp_path / name)
        ids = prompt(7, seed=3)
        expected = ref.generate(ids, max_new_tokens=20, do_sample=False, min_new_tokens=20, pad_token_id=0)
        got = generate(ours, ids, max_new_tokens=20, temperature=0.0, top_k=None, top_p=None, eos_token_id=None)
        assert got.tolist() == expected.tolist(), name


def test_left_padded_batch_generates_what_each_prompt_generates_alone() -> None:
    model = scaled_model(num_kv_heads=2)
    short, long = prompt(5, seed=1)[0], prompt(9, seed=2)[0]
    batch = torch.stack([torch.cat([torch.zeros(4, dtype=torch.long), short]), long])
    mask = torch.tensor([[0] * 4 + [1] * 5, [1] * 9])
    together = generate(model, batch, attention_mask=mask, max_new_tokens=12, temperature=0.0)
    alone_short = generate(model, short, max_new_tokens=12, temperature=0.0)
    alone_long = generate(model, long, max_new_tokens=12, temperature=0.0)
    assert together[0, 9:].tolist() == alone_short[0, 5:].tolist()
    assert together[1, 9:].tolist() == alone_long[0, 9:].tolist()


def test_top_k_one_and_tiny_top_p_are_greedy() -> None:
    model = scaled_model()
    ids = prompt(6)
    greedy = generate(model, ids, max_new_tokens=15, temperature=0.0)
    g = torch.Generator().manual_seed(0)
    assert generate(model, ids, max_new_tokens=15, temperature=1.5, top_k=1, generator=g).tolist() == greedy.tolist()
    assert generate(model, ids, max_new_tokens=15, temperature=1.5, top_p=1e-6, generator=g).tolist() == greedy.tolist()


def test_seeded_sampling_is_reproducible() -> None:
    model = scaled_model()
    ids = prompt(6)

    def sample(seed: int) -> list[int]:
        g = torch.Generator().manual_seed(seed)
        return generate(model, ids, max_new_tokens=30, temperature=2.0, top_k=40, top_p=0.99, generator=g)[0].tolist()

    assert sample(1) == sample(1)
    assert sample(1) != sample(2)


def test_sampling_never_leaves_the_top_k_or_nucleus() -> None:
    g = torch.Generator().manual_seed(0)
    logits = torch.tensor([[0.0, 1.0, 2.0, 3.0]]).expand(2000, 4)
    drawn = sample_next(logits, temperature=1.0, top_k=2, generator=g)
    assert set(drawn.tolist()) == {2, 3}
    probs = torch.log(torch.tensor([[0.5, 0.3, 0.15, 0.05]])).expand(2000, 4)
    assert set(sample_next(probs, temperature=1.0, top_p=0.79, generator=g).tolist()) == {0, 1}
    assert set(sample_next(probs, temperature=1.0, top_p=0.81, generator=g).tolist()) == {0, 1, 2}
    # Temperature 1 without filters follows the softmax: the share of token 0 is near 0.5.
    share = (sample_next(probs[:1].expand(20000, 4), temperature=1.0, generator=g) == 0).float().mean().item()
    assert math.isclose(share, 0.5, abs_tol=0.02)


def test_eos_ends_generation_and_fills_finished_rows() -> None:
    model = scaled_model()
    ids = prompt(6, batch=2, seed=4)
    greedy = generate(model, ids, max_new_tokens=10, temperature=0.0)
    eos = int(greedy[0, 6 + 2])  # row 0's third new token
    out = generate(model, ids, max_new_tokens=10, temperature=0.0, eos_token_id=[eos])
    row0 = out[0, 6:].tolist()
    first = row0.index(eos)
    assert row0[: first + 1] == greedy[0, 6 : 6 + first + 1].tolist()
    assert row0[first:] == [eos] * (len(row0) - first)


def test_stream_yields_the_tokens_generate_returns() -> None:
    model = scaled_model()
    ids = prompt(5)
    streamed = [int(t[0]) for t in stream_generate(model, ids[0].tolist(), max_new_tokens=9, temperature=0.0)]
    assert streamed == generate(model, ids, max_new_tokens=9, temperature=0.0)[0, 5:].tolist()
    assert len(streamed) == 9


def test_generation_stops_at_the_context_length() -> None:
    model = scaled_model("gpt2")  # learned positions: no position past 63 exists
    out = generate(model, prompt(60), max_new_tokens=10, temperature=0.0)
    assert out.shape == (1, 64)
    assert model.training is False
