"""Beam search and the repetition penalty against transformers on the same tiny weights."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from transformers import GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM

from training_runner.core.beam_search import beam_search
from training_runner.core.generate import generate
from training_runner.core.model import load_pretrained

VOCAB = 61


def reference(arch: str, tmp_path: Path, *, seed: int = 0):
    """A transformers model with sharp random weights, and ours loaded from its saved files."""
    torch.manual_seed(seed)
    if arch == "llama":
        config = LlamaConfig(
            vocab_size=VOCAB, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
            num_key_value_heads=2, max_position_embeddings=128, bos_token_id=None, eos_token_id=None,
        )  # fmt: skip
        ref = LlamaForCausalLM(config)
    else:
        ref = GPT2LMHeadModel(GPT2Config(n_layer=2, n_embd=32, n_head=4, vocab_size=VOCAB, n_positions=128))
    with torch.no_grad():
        for p in ref.parameters():
            p.copy_(torch.randn(p.shape) * (0.5 if p.ndim == 2 else 0.1) + (1.0 if p.ndim == 1 else 0.0))
    ref.eval().save_pretrained(tmp_path / arch)
    return ref, load_pretrained(tmp_path / arch)


def prompt(length: int, seed: int) -> torch.Tensor:
    return torch.randint(0, VOCAB, (1, length), generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("arch", ["llama", "gpt2"])
def test_greedy_64_new_tokens_equal_transformers(arch, tmp_path):
    ref, ours = reference(arch, tmp_path)
    for seed in (3, 4):
        ids = prompt(9, seed)
        expected = ref.generate(ids, max_new_tokens=64, min_new_tokens=64, do_sample=False, pad_token_id=0)
        got = generate(ours, ids, max_new_tokens=64, temperature=0.0)
        assert got.shape == (1, 9 + 64)
        assert got.tolist() == expected.tolist()


def test_greedy_with_repetition_penalty_equals_transformers(tmp_path):
    ref, ours = reference("llama", tmp_path)
    ids = prompt(8, 5)
    for penalty in (1.3, 0.8):
        expected = ref.generate(
            ids, max_new_tokens=40, min_new_tokens=40, do_sample=False, repetition_penalty=penalty, pad_token_id=0
        )
        got = generate(ours, ids, max_new_tokens=40, temperature=0.0, repetition_penalty=penalty)
        assert got.tolist() == expected.tolist(), penalty
    plain = generate(ours, ids, max_new_tokens=40, temperature=0.0)
    assert plain.tolist() != generate(ours, ids, max_new_tokens=40, temperature=0.0, repetition_penalty=1.3).tolist()


def _eos_after(ours, ids, steps: int) -> int:
    """A token greedy decoding emits early, so eos really ends beams."""
    return int(generate(ours, ids, max_new_tokens=steps + 1, temperature=0.0)[0, -1])


CASES = [
    # num_beams, length_penalty, early_stopping, eos at greedy step (None: no eos), max_new_tokens
    (3, 1.0, False, None, 24),
    (4, 1.0, False, 2, 24),
    (4, 0.5, True, 3, 20),
    (2, 2.0, "never", 1, 16),
    (5, 1.0, False, 6, 30),
]


@pytest.mark.parametrize("arch", ["llama", "gpt2"])
@pytest.mark.parametrize(("num_beams", "length_penalty", "early_stopping", "eos_step", "new"), CASES)
def test_beam_search_equals_transformers(arch, num_beams, length_penalty, early_stopping, eos_step, new, tmp_path):
    ref, ours = reference(arch, tmp_path)
    ids = prompt(7, 11)
    eos = _eos_after(ours, ids, eos_step) if eos_step is not None else None
    returns = min(2, num_beams)
    expected = ref.generate(
        ids, max_new_tokens=new, num_beams=num_beams, do_sample=False, length_penalty=length_penalty,
        early_stopping=early_stopping, eos_token_id=eos, pad_token_id=0, num_return_sequences=returns,
        output_scores=True, return_dict_in_generate=True,
    )  # fmt: skip
    got = beam_search(
        ours, ids, num_beams=num_beams, max_new_tokens=new, eos_token_id=eos, length_penalty=length_penalty,
        early_stopping=early_stopping, num_return_sequences=returns,
    )  # fmt: skip
    for row, hypothesis in zip(expected.sequences.tolist(), got, strict=True):
        new_tokens = row[7:]
        assert new_tokens[: len(hypothesis.tokens)] == hypothesis.tokens
        # transformers fills the shorter row with the pad id, or eos when the pad id is 0
        assert set(new_tokens[len(hypothesis.tokens) :]) <= {0 if eos is None else eos}
    assert [round(h.score, 4) for h in got] == [round(s, 4) for s in expected.sequences_scores.tolist()]


def test_beams_that_end_on_eos_match_transformers(tmp_path):
    """Over eos choices along the greedy path, some best beams end on eos; all agree with transformers."""
    ref, ours = reference("llama", tmp_path)
    ids = prompt(7, 11)
    path = generate(ours, ids, max_new_tokens=12, temperature=0.0)[0, 7:].tolist()
    ended_on_eos = 0
    for eos in dict.fromkeys(path):
        expected = ref.generate(
            ids, max_new_tokens=20, num_beams=3, do_sample=False, eos_token_id=eos, pad_token_id=eos
        )[0, 7:].tolist()
        [best] = beam_search(ours, ids, num_beams=3, max_new_tokens=20, eos_token_id=eos)
        assert expected[: len(best.tokens)] == best.tokens
        assert set(expected[len(best.tokens) :]) <= {eos}
        ended_on_eos += len(best.tokens) < 20 and best.tokens[-1] == eos
    assert ended_on_eos >= 1


def test_one_beam_is_greedy(tmp_path):
    _ref, ours = reference("llama", tmp_path)
    ids = prompt(6, 2)
    [best] = beam_search(ours, ids, num_beams=1, max_new_tokens=20)
    assert best.tokens == generate(ours, ids, max_new_tokens=20, temperature=0.0)[0, 6:].tolist()
