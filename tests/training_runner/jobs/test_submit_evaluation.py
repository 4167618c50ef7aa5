"""Submitting evaluation runs: the model pinned and loadable as a causal decoder, the suite shipped
or pinned with matching data; a bad input is a clear error naming its field, and nothing is
queued."""

from __future__ import annotations

import json

import pytest

from registry.selectors.revisions import revision_resolve
from tests.frontend.builders import commit_files, make_repo
from tests.training_runner.jobs.conftest import publish_suite_repo, refused
from training_runner.jobs.choices import RunKind
from training_runner.jobs.services.submit_evaluation import evaluation_run_submit

pytestmark = pytest.mark.django_db


def test_an_evaluation_run_pins_model_and_suite(alice, base_model, shared_data):
    from evals.harness.suite import load_suite

    run = evaluation_run_submit(user=alice, model="alice/tiny-base", suite="bigbench_mc", limit=5)
    expected = load_suite("bigbench_mc", data_root=__import__("django.conf").conf.settings.HUB_SHARED_DATA)
    assert (run.kind, run.suite, run.limit) == (RunKind.EVALUATION, "bigbench_mc", 5)
    assert run.suite_hash == expected.content_hash()
    assert run.model_commit == revision_resolve(repo=base_model, revision="main").oid


def test_only_causal_language_models_are_evaluated(alice):
    encoder = make_repo(alice, "encoder")
    bert = {
        "model_type": "bert",
        "vocab_size": 300,
        "hidden_size": 32,
        "num_hidden_layers": 1,
        "num_attention_heads": 4,
        "intermediate_size": 64,
        "max_position_embeddings": 64,
    }
    commit_files(
        encoder, alice, {"config.json": json.dumps(bert).encode(), "model.safetensors": b"", "tokenizer.json": b"{}"}
    )
    error = refused(evaluation_run_submit, user=alice, model="alice/encoder", suite="bigbench_mc")
    assert error.fields == {
        "model": ["alice/encoder is a 'bert' model; the evaluation suites score causal language models (llama, gpt2)."]
    }


def test_suites_whose_data_does_not_match_their_pins_arerefused(alice, base_model):
    publish_suite_repo(alice, pin_sha="0" * 64)
    error = refused(evaluation_run_submit, user=alice, model="alice/tiny-base", suite="datasets/alice/letters-bench")
    assert error.fields["suite"][0].startswith("task letters: data/letters.jsonl has sha256 ")
    assert error.fields["suite"][0].endswith(f"but the suite pins {'0' * 64}.")
    error = refused(evaluation_run_submit, user=alice, model="alice/tiny-base", suite="wikitext_ppl_v9")
    assert error.fields["suite"][0].startswith("Unknown suite 'wikitext_ppl_v9': use one of bigbench_mc, wikitext_ppl")
    error = refused(
        evaluation_run_submit,
        user=alice,
        model="alice/tiny-base",
        suite="datasets/alice/letters-bench",
        suite_file="other.yaml",
    )
    assert error.fields == {"suite_file": ["Not in the repository."]}
