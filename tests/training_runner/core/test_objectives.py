"""Objectives: BERT masking proportions, prompt-token masking for SFT, batches and loss statistics."""

from __future__ import annotations

import math

import torch

from training_runner.core import objectives
from training_runner.core.config import MLMSection
from training_runner.core.decoder import Decoder, DecoderConfig
from training_runner.core.objectives import (
    IGNORE,
    ChatExamples,
    LabeledTexts,
    causal_lm_loss,
    chat_example,
    chat_segments,
    linear_cross_entropy,
    mask_tokens,
    summed_cross_entropy,
)
from training_runner.core.tokenizer import gpt2_tokenizer, train_bpe

CHAT = [
    {"role": "system", "content": "Answer briefly."},
    {"role": "user", "content": "Name a Greek letter."},
    {"role": "assistant", "content": "Alpha."},
    {"role": "user", "content": "Another one?"},
    {"role": "assistant", "content": "Beta."},
]


def chat_tokenizer():
    texts = [m["content"] for m in CHAT] * 20 + ["alpha beta gamma delta epsilon"] * 20
    return train_bpe(texts, vocab_size=300)


def test_mask_tokens_follows_15_80_10_10() -> None:
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(5, 1000, (64, 512), generator=g)
    ids[:, 0] = 1  # a special token in every row: never chosen
    inputs, labels = mask_tokens(
        ids, mask_id=4, vocab_size=1000, special_ids=torch.tensor([0, 1, 2, 3, 4]), cfg=MLMSection(), generator=g
    )
    chosen = labels != IGNORE
    assert not chosen[:, 0].any()
    assert torch.equal(labels[chosen], ids[chosen])
    assert torch.equal(inputs[~chosen], ids[~chosen])
    n = chosen.sum().item()
    masked = (inputs == 4) & chosen
    kept = (inputs == ids) & chosen
    randomised = chosen & ~masked & ~kept
    assert math.isclose(n / ids[:, 1:].numel(), 0.15, abs_tol=0.005)
    assert math.isclose(masked.sum().item() / n, 0.8, abs_tol=0.015)
    # A random replacement can draw the original token (1 in 1000): "kept" absorbs those few.
    assert math.isclose(randomised.sum().item() / n, 0.1, abs_tol=0.01)
    assert math.isclose(kept.sum().item() / n, 0.1, abs_tol=0.01)


def test_chat_segments_train_only_the_replies() -> None:
    tok = chat_tokenizer()
    pieces = chat_segments(CHAT, tok)
    assert [text for text, trained in pieces if trained] == ["Alpha.<|im_end|>\n", "Beta.<|im_end|>\n"]
    assert "".join(text for text, _ in pieces) == tok.apply_chat_template(CHAT)
    ids, labels = chat_example(CHAT, tok, max_len=1000)
    assert ids == tok.encode(tok.apply_chat_template(CHAT))  # splitting at turn markers changes no token
    trained = [i for i, label in zip(ids, labels, strict=True) if label != IGNORE]
    assert tok.decode(trained) == "Alpha.<|im_end|>\nBeta.<|im_end|>\n"
    assert all(label in (IGNORE, i) for i, label in zip(ids, labels, strict=True))


def test_plain_template_masks_prompts_for_the_gpt2_tokenizer() -> None:
    tok = gpt2_tokenizer()
    ids, labels = chat_example(CHAT[1:3], tok, max_len=1000)
    trained = [i for i, label in zip(ids, labels, strict=True) if label != IGNORE]
    assert tok.decode(trained) == "Alpha.<|endoftext|>\n\n"


def test_chat_examples_shift_and_pad() -> None:
    data = ChatExamples([([5, 6, 7, 8], [IGNORE, IGNORE, 7, 8]), ([5, 9, 3], [IGNORE, 9, 3])], pad_id=0)
    batch = data.batch([0, 1])
    assert batch["input_ids"].tolist() == [[5, 6, 7], [5, 9, 0]]
    assert batch["labels"].tolist() == [[IGNORE, 7, 8], [9, 3, IGNORE]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1], [1, 1, 0]]
    assert len(ChatExamples([([1, 2], [IGNORE, IGNORE])], pad_id=0)) == 0  # nothing to learn: dropped


def test_labeled_texts_batch() -> None:
    batch = LabeledTexts([([2, 10, 3], 1), ([2, 3], 0)], pad_id=0).batch([1, 0])
    assert batch["input_ids"].tolist() == [[2, 3, 0], [2, 10, 3]]
    assert batch["labels"].tolist() == [0, 1]


def test_causal_loss_sums_targets_and_their_bytes() -> None:
    model = Decoder(DecoderConfig(vocab_size=4, hidden_size=8, num_layers=1, num_heads=2))
    torch.nn.init.zeros_(model.lm_head.weight)  # uniform predictions: −log p = log 4 per target
    batch = {"input_ids": torch.zeros(1, 3, dtype=torch.long), "labels": torch.tensor([[1, IGNORE, 3]])}
    parts = causal_lm_loss(torch.tensor([0, 2, 5, 1]))(model, batch)
    assert parts.count.item() == 2
    assert math.isclose(parts.loss_sum.item(), 2 * math.log(4), rel_tol=1e-6)
    assert parts.extras["bytes"].item() == 3


def test_linear_cross_entropy_matches_the_plain_path(monkeypatch) -> None:
    monkeypatch.setattr(objectives, "LOGITS_PER_CHUNK", 7 * 50)  # 7 rows per chunk: several chunks
    g = torch.Generator().manual_seed(0)
    hidden = torch.randn(30, 16, generator=g, requires_grad=True)
    weight = torch.randn(50, 16, generator=g, requires_grad=True)
    labels = torch.randint(0, 50, (30,), generator=g)
    labels[::4] = IGNORE
    fused = linear_cross_entropy(hidden, weight, labels)
    (fused * 0.5).backward()
    fused_grads = hidden.grad.clone(), weight.grad.clone()
    hidden.grad = weight.grad = None
    plain = summed_cross_entropy(hidden @ weight.t(), labels)
    (plain * 0.5).backward()
    assert math.isclose(fused.item(), plain.item(), rel_tol=1e-6)
    assert (fused_grads[0] - hidden.grad).abs().max().item() <= 1e-6
    assert (fused_grads[1] - weight.grad).abs().max().item() <= 1e-6
    with torch.no_grad():
        assert math.isclose(linear_cross_entropy(hidden, weight, labels).item(), plain.item(), rel_tol=1e-6)
