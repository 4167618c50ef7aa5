"""The engine's operations against transformers on the same files, and its refusals."""

from __future__ import annotations

import json

import pytest
import torch
from transformers import (
    AutoModelForCausalLM,
    AutoTokenizer,
    BertForMaskedLM,
    BertForSequenceClassification,
    BertModel,
)

from training_runner.engine import text
from training_runner.engine.cache import ModelCache
from training_runner.engine.errors import InvalidRequest, NoChatTemplate, RequestTooLarge, UnsupportedModel
from training_runner.engine.loaded import load_model_dir
from training_runner.engine.params import GenerateParams, Sampling

PROMPT = "alpha beta gamma"


def params(prompt=PROMPT, **sampling) -> GenerateParams:
    return GenerateParams(prompt=prompt, sampling=Sampling(**sampling))


def reference_text(path, prompt: str, **options) -> tuple[str, list[int]]:
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModelForCausalLM.from_pretrained(path).eval()
    ids = tokenizer(prompt, return_tensors="pt").input_ids
    out = model.generate(ids, do_sample=False, pad_token_id=tokenizer.eos_token_id, **options)[0, ids.shape[1] :]
    return tokenizer.decode(out, skip_special_tokens=True), out.tolist()


@pytest.mark.parametrize("arch", ["llama", "gpt2"])
def test_greedy_text_equals_transformers(model_dirs, arch):
    loaded = load_model_dir(model_dirs[arch], key=arch)
    expected, ids = reference_text(model_dirs[arch], PROMPT, max_new_tokens=64)
    end = text.generate_text(loaded, params(max_new_tokens=64, temperature=0.0))
    assert end["text"] == expected
    assert end["usage"]["completion_tokens"] == len(ids)
    assert end["usage"]["prompt_tokens"] == len(loaded.tokenizer.encode(PROMPT))
    assert end["finish_reason"] == ("stop" if ids[-1] in loaded.eos_ids else "length")


def test_beam_search_text_equals_transformers(model_dirs):
    loaded = load_model_dir(model_dirs["llama"], key="llama")
    expected, _ = reference_text(model_dirs["llama"], PROMPT, max_new_tokens=24, num_beams=3)
    end = text.generate_text(loaded, params(max_new_tokens=24, temperature=0.0, num_beams=3))
    assert end["text"] == expected
    assert [e["type"] for e in text.generate_events(loaded, params(max_new_tokens=24, num_beams=3))] == ["text", "end"]


def test_stream_deltas_add_up_and_seeded_sampling_repeats(model_dirs):
    loaded = load_model_dir(model_dirs["llama"], key="llama")

    def run(seed):
        events = list(text.generate_events(loaded, params(max_new_tokens=40, temperature=1.2, top_p=0.95, seed=seed)))
        deltas = [e["text"] for e in events if e["type"] == "text"]
        assert "".join(deltas) == events[-1]["text"]
        return deltas

    first = run(7)
    assert len(first) >= 2
    assert run(7) == first
    assert "".join(run(8)) != "".join(first)


def test_stop_strings_cut_the_text_and_are_never_streamed(model_dirs):
    loaded = load_model_dir(model_dirs["llama"], key="llama")
    full = text.generate_text(loaded, params(max_new_tokens=40, temperature=0.0))["text"]
    stop = full[12:15]
    cut_at = full.find(stop)
    events = list(text.generate_events(loaded, params(max_new_tokens=40, temperature=0.0, stop=[stop, "zzz"])))
    streamed = "".join(e["text"] for e in events if e["type"] == "text")
    assert streamed == full[:cut_at]
    assert events[-1]["text"] == full[:cut_at]
    assert events[-1]["finish_reason"] == "stop"


def test_stop_finder_holds_back_possible_starts():
    finder = text.StopFinder(["END", "xy"])
    assert finder.safe_end("abcEN") == 3
    assert finder.safe_end("abcx") == 3
    assert finder.safe_end("abc") == 3
    assert finder.safe_end("ab\ufffd") == 2
    assert finder.cut("a xy b END") == 2


def test_chat_messages_use_the_template_and_models_without_one_refuse(model_dirs):
    loaded = load_model_dir(model_dirs["llama"], key="llama")
    messages = [{"role": "user", "content": "alpha beta"}]
    chat = GenerateParams(messages=messages, sampling=Sampling(max_new_tokens=5, temperature=0.0))
    rendered = "<|im_start|>user\nalpha beta<|im_end|>\n<|im_start|>assistant\n"
    assert text.prompt_ids(loaded, chat) == loaded.tokenizer.encode(rendered)
    bare = load_model_dir(model_dirs["nochat"], key="nochat")
    with pytest.raises(NoChatTemplate, match="this model has no chat template"):
        text.generate_text(bare, chat)


def test_fill_mask_equals_transformers(model_dirs):
    loaded = load_model_dir(model_dirs["mlm"], key="mlm")
    [predictions] = text.fill_mask(loaded, "alpha <mask> gamma", top_k=3)
    ref = BertForMaskedLM.from_pretrained(model_dirs["mlm"]).eval()
    ids = torch.tensor([loaded.tokenizer.encode("alpha <mask> gamma", add_special_tokens=True)])
    position = ids[0].tolist().index(loaded.tokenizer.mask_token_id)
    with torch.no_grad():
        probs = ref(ids).logits[0, position].softmax(-1)
    scores, tokens = probs.topk(3)
    assert [p["token"] for p in predictions] == tokens.tolist()
    assert [p["score"] for p in predictions] == pytest.approx(scores.tolist(), abs=1e-5)
    assert predictions[0]["sequence"] == loaded.tokenizer.decode(
        [*ids[0, 1:position].tolist(), tokens[0].item(), *ids[0, position + 1 : -1].tolist()]
    )
    with pytest.raises(InvalidRequest, match="must contain the mask token <mask>"):
        text.fill_mask(loaded, "alpha beta", top_k=3)


def test_classification_equals_transformers(model_dirs):
    loaded = load_model_dir(model_dirs["classify"], key="classify")
    got = text.classify(loaded, ["alpha beta", "gamma delta epsilon"])
    ref = BertForSequenceClassification.from_pretrained(model_dirs["classify"]).eval()
    for row, sentence in zip(got, ["alpha beta", "gamma delta epsilon"], strict=True):
        ids = torch.tensor([loaded.tokenizer.encode(sentence, add_special_tokens=True)])
        with torch.no_grad():
            probs = ref(ids).logits[0].softmax(-1).tolist()
        assert sorted(r["label"] for r in row) == ["negative", "positive"]
        assert {r["label"]: r["score"] for r in row} == pytest.approx(
            {"negative": probs[0], "positive": probs[1]}, abs=1e-6
        )
        assert row[0]["score"] >= row[1]["score"]


def test_embeddings_are_normalised_mean_pools_and_similarity_is_their_cosine(model_dirs):
    loaded = load_model_dir(model_dirs["embed"], key="embed")
    sentences = ["alpha beta", "alpha beta gamma delta"]
    vectors = torch.tensor(text.embed(loaded, sentences))
    ref = BertModel.from_pretrained(model_dirs["embed"]).eval()
    for vector, sentence in zip(vectors, sentences, strict=True):
        ids = torch.tensor([loaded.tokenizer.encode(sentence, add_special_tokens=True)])
        with torch.no_grad():
            mean = ref(ids).last_hidden_state[0].mean(0)
        assert torch.allclose(vector, mean / mean.norm(), atol=1e-5)
    scores = text.similarity(loaded, "alpha beta", ["alpha beta", "alpha beta gamma delta"])
    assert scores[0] == pytest.approx(1.0, abs=1e-5)
    assert scores[1] == pytest.approx(float(vectors[0] @ vectors[1]), abs=1e-5)


def test_operations_refuse_the_wrong_head(model_dirs):
    mlm = load_model_dir(model_dirs["mlm"], key="mlm")
    with pytest.raises(UnsupportedModel, match="this model does fill-mask, not text-generation"):
        text.generate_text(mlm, params())
    with pytest.raises(UnsupportedModel, match="this model does fill-mask, not text-classification"):
        text.classify(mlm, ["alpha"])


def test_unsupported_directories_are_refused_with_the_reason(model_dirs, tmp_path):
    (tmp_path / "neox").mkdir()
    (tmp_path / "neox/config.json").write_text(json.dumps({"model_type": "gpt_neox"}))
    message = "architecture 'gpt_neox' is not supported; the engine runs llama, gpt2, bert"
    with pytest.raises(UnsupportedModel, match=message):
        load_model_dir(tmp_path / "neox", key="x")
    (tmp_path / "pickled").mkdir()
    (tmp_path / "pickled/config.json").write_text(json.dumps({"model_type": "llama"}))
    (tmp_path / "pickled/pytorch_model.bin").write_bytes(b"not loaded")
    with pytest.raises(UnsupportedModel, match=r"no safetensors weights \(pickle files are never loaded\)"):
        load_model_dir(tmp_path / "pickled", key="x")


def test_parameters_are_validated_with_the_field_named():
    cases = [
        ({"prompt": "  "}, InvalidRequest, "prompt", "prompt must not be empty"),
        ({"max_new_tokens": 0}, InvalidRequest, "max_new_tokens", "max_new_tokens must be in [1, 1024]; got 0"),
        ({"max_new_tokens": 5000}, InvalidRequest, "max_new_tokens", "max_new_tokens must be in [1, 1024]; got 5000"),
        ({"temperature": "hot"}, InvalidRequest, "temperature", "temperature must be a number"),
        ({"top_p": 0}, InvalidRequest, "top_p", "top_p must be in (0.0, 1.0]; got 0"),
        ({"prompt": "x" * 32_001}, RequestTooLarge, "prompt", "prompt is 32001 characters; the limit is 32000"),
        ({"stop": [""]}, InvalidRequest, "stop", "stop must be a string or a list of non-empty strings"),
    ]
    for arguments, error, field, message in cases:
        with pytest.raises(error) as caught:
            params(**arguments)
        assert (caught.value.field, caught.value.message) == (field, message)
    with pytest.raises(InvalidRequest, match="give exactly one of prompt and messages"):
        GenerateParams()


def test_cache_evicts_the_least_recently_used_model_under_its_cap(model_dirs):
    loads = []

    def load(key):
        loads.append(key)
        return load_model_dir(model_dirs[key], key=key)

    size = load_model_dir(model_dirs["llama"], key="llama").nbytes
    cache = ModelCache(load, capacity_bytes=2 * size + size // 2)
    for key in ("llama", "nochat", "llama", "gpt2"):
        cache.get(key)
    assert cache.keys() == ["llama", "gpt2"]
    assert loads == ["llama", "nochat", "gpt2"]
    small = ModelCache(load, capacity_bytes=size // 2)
    with pytest.raises(UnsupportedModel, match=r"the model needs \d+ MiB, over the engine's cap of 0 MiB"):
        small.get("llama")
