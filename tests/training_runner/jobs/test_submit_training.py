"""Submitting training runs: every input is checked and pinned before anything is queued (the
inputs every run shares through training runs: pinning, loadable models, access, the queue); a
bad one is a clear error naming its field, and nothing is queued."""

from __future__ import annotations

import json

import pytest

from common.errors import ValidationError
from registry.choices import RepoType
from registry.errors import GatedRepo, RepoNotFound
from registry.selectors.revisions import revision_resolve
from registry.services.repos import repo_update_settings
from tests.frontend.builders import commit_files, make_repo
from tests.support.factories import make_user
from tests.training_runner.jobs.conftest import TINY, refused
from training_runner.jobs.choices import OutputMode, RunKind, RunState
from training_runner.jobs.errors import QueueFull
from training_runner.jobs.models import Run
from training_runner.jobs.services.submit_evaluation import evaluation_run_submit
from training_runner.jobs.services.submit_training import parse_param_lines, training_run_submit

pytestmark = pytest.mark.django_db
POSITIVE = "0 is not allowed; allowed values: numbers > 0"


def _train(user, **overrides):
    values = {"recipe": "pretrain_clm", "dataset": "alice/greek", "params": TINY, "output_repo": f"{user}/out"}
    return training_run_submit(user=user, **{**values, **overrides})


def test_a_training_run_pins_every_input_and_stores_the_validated_config(alice, corpus, base_model):
    commit_files(corpus, alice, {"extra.txt": b"more words\n"}, branch="main")
    head = revision_resolve(repo=corpus, revision="main").oid
    run = _train(alice, recipe="sft", base_model="alice/tiny-base", params={"train.max_steps": 3})

    assert (run.kind, run.state, run.recipe) == (RunKind.TRAINING, RunState.QUEUED, "sft")
    assert (run.dataset_repo, run.dataset_revision, run.dataset_commit) == (corpus, "main", head)
    assert run.model_commit == revision_resolve(repo=base_model, revision="main").oid
    assert run.config["model"] == {**run.config["model"], "source": "pretrained", "path": "<base model snapshot>"}
    assert run.config["tokenizer"]["source"] == "model"  # a pretrained model keeps its tokenizer
    assert run.config["train"]["max_steps"] == run.total_steps == 3
    assert run.config["train"]["checkpoint_interval"] == 100  # HUB_RUN_CHECKPOINT_STEPS
    assert (run.output_repo, run.output_repo_name, run.output_mode, run.output_branch) == (
        None,
        "alice/out",
        OutputMode.BRANCH,
        "main",
    )
    assert [(t.from_state, t.to_state, t.reason) for t in run.transitions.all()] == [
        ("", "queued", "Submitted by alice.")
    ]


def test_card_metadata_carries_the_submitters_own_keys(alice, corpus):
    boards = {"leaderboards": ["eval-guild/wikitext"]}
    run = _train(alice, params={**TINY, "card.metadata": boards})
    assert run.config["card"]["metadata"] == boards


def test_a_revision_is_pinned_to_the_commit_it_named_then(alice, corpus):
    first = revision_resolve(repo=corpus, revision="main").oid
    commit_files(corpus, alice, {"train.txt": b"other words\n" * 50})
    run = _train(alice, dataset_revision=first[:10])
    assert (run.dataset_revision, run.dataset_commit) == (first[:10], first)


@pytest.mark.parametrize(
    ("overrides", "fields"),
    [
        ({"recipe": "distill"}, {"recipe": ["Unknown recipe."]}),
        ({"params": {"train.max_steps": 0}}, {"params.train.max_steps": [POSITIVE]}),
        ({"params": {"optim.lr": "fast"}}, {"params.optim.lr": ["expected float, got 'fast'"]}),
        (
            {"params": {"train.warp": 1}},
            {
                "params.train.warp": [
                    "unknown key; allowed keys: max_steps, batch_size, grad_accum_steps, eval_interval, eval_batches, "
                    "log_interval, checkpoint_interval, keep_checkpoints, device, precision, compile, peak_flops"
                ]
            },
        ),
        ({"params": {"data.path": "/etc"}}, {"params.data.path": ["Set by the hub."]}),
        (
            {"params": {"card.metadata": {"training_run": {"id": 1}}}},
            {"params.card.metadata.training_run": ["Set by the hub."]},
        ),
        ({"params": {"train.max_steps": 10**9}}, {"params.train.max_steps": ["At most 100000."]}),
        ({"recipe": "lora"}, {"base_model": ["the lora recipe fine-tunes a base model: choose one"]}),
        ({"dataset_revision": "nope"}, {"dataset_revision": ["Invalid rev id: nope"]}),
        ({"output_repo": "nobody/x"}, {"output_repo": ["Unknown namespace."]}),
        ({"output_repo": "alice/bad name"}, {"name": ["Invalid repository name."]}),
        ({"output_repo": "alice"}, {"output_repo": ["Invalid."]}),
        ({"evaluate_after": ["mmlu"]}, {"evaluate_after": ["Unknown suite."]}),
    ],
)
def test_bad_training_input_names_its_field_and_queues_nothing(alice, corpus, overrides, fields):
    error = refused(_train, user=alice, **overrides)
    assert isinstance(error, ValidationError)
    assert error.fields == fields


def test_a_dataset_missing_a_column_is_refused_before_queueing(alice):
    repo = make_repo(alice, "rows", repo_type=RepoType.DATASET)
    commit_files(repo, alice, {"train.jsonl": json.dumps({"body": "x"}).encode() + b"\n"})
    error = refused(_train, user=alice, dataset="alice/rows")
    message = "train.jsonl has no column 'text' (data.text_field); its records have ['body']."
    assert error.fields == {"dataset": [message], "params.data.text_field": [message]}
    empty = make_repo(alice, "empty", repo_type=RepoType.DATASET)
    error = refused(_train, user=alice, dataset="alice/empty")
    head = revision_resolve(repo=empty, revision="main").oid
    assert error.message == f"alice/empty has no .txt, .jsonl, .parquet data files at {head[:12]}."


def test_models_the_core_cannot_load_arerefused(alice, corpus, base_model, pretrained_dir):
    weird = make_repo(alice, "weird")
    commit_files(weird, alice, {"config.json": json.dumps({"model_type": "mamba"}).encode()})
    error = refused(_train, user=alice, base_model="alice/weird")
    assert error.fields == {
        "base_model": [
            "alice/weird cannot be loaded by the training core: model_type: 'mamba' is not allowed; "
            "allowed values: 'llama', 'gpt2', 'bert'"
        ]
    }

    pickled = make_repo(alice, "pickled")
    files = {"config.json": (pretrained_dir / "config.json").read_bytes(), "pytorch_model.bin": b"\x80\x04pickle"}
    commit_files(pickled, alice, {**files, "tokenizer.json": b"{}"})
    error = refused(_train, user=alice, base_model="alice/pickled")
    assert error.message == (
        "alice/pickled has no safetensors weights (it has only pytorch_model.bin); only safetensors weights are loaded."
    )
    error = refused(_train, user=alice, recipe="classify", base_model="alice/tiny-base")
    assert error.fields["base_model"] == [
        "alice/tiny-base cannot be loaded by the training core: model.path: recipe 'classify' needs one of 'bert' "
        "models, not 'llama'"
    ]


def test_repositories_the_user_cannot_read_are_not_found_and_gated_onesrefused(alice, corpus, base_model):
    bob = make_user("bob")
    repo_update_settings(repo=corpus, private=True)
    with pytest.raises(RepoNotFound) as missing:
        _train(bob, dataset="alice/greek")
    with pytest.raises(RepoNotFound) as private:
        _train(bob, dataset="alice/no-such-data")
    assert (missing.value.status, missing.value.message) == (404, "Repository alice/greek not found.")
    assert private.value.message == "Repository alice/no-such-data not found."
    repo_update_settings(repo=base_model, gated="manual")
    with pytest.raises(GatedRepo):
        evaluation_run_submit(user=bob, model="alice/tiny-base", suite="bigbench_mc")
    assert Run.objects.count() == 0


def test_where_a_result_may_be_published(alice, corpus, base_model):
    bob = make_user("bob")
    commit_files(make_repo(bob, "data", repo_type=RepoType.DATASET), bob, {"train.txt": b"a b c\n" * 40})
    error = refused(_train, user=bob, dataset="bob/data", output_repo="alice/tiny-base")
    assert (error.status, error.message) == (403, "You are not allowed to write to alice/tiny-base.")
    error = refused(_train, user=bob, dataset="bob/data", output_repo="alice/new-model")
    assert error.fields == {"output_repo": ["You cannot create repositories under alice."]}
    error = refused(_train, user=bob, dataset="bob/data", output_repo="alice/none", output_pull_request=True)
    assert error.fields == {"output_repo": ["Not found."]}
    run = _train(bob, dataset="bob/data", output_repo="alice/tiny-base", output_pull_request=True)
    assert (run.output_repo, run.output_mode, run.output_branch) == (base_model, OutputMode.PULL_REQUEST, "main")


def test_each_user_may_hold_a_few_queued_runs(alice, corpus, settings):
    settings.HUB_RUN_MAX_QUEUED_PER_USER = 2
    _train(alice)
    _train(alice)
    with pytest.raises(QueueFull) as error:
        _train(alice)
    assert (error.value.status, error.value.retry_after) == (429, 60)
    assert error.value.message == (
        "You have 2 queued runs, the most one person may have; cancel one or wait until one starts."
    )
    assert Run.objects.count() == 2


def test_parameters_from_a_form_box_are_yaml_values():
    assert parse_param_lines("train.max_steps=20\n# a comment\n\noptim.lr = 0.001\ncard.tags=[a, b]\n") == {
        "train.max_steps": 20,
        "optim.lr": 1e-3,
        "card.tags": ["a", "b"],
    }
    with pytest.raises(ValidationError) as error:
        parse_param_lines("train.max_steps 20")
    assert error.value.message == "Line 1 is not key=value: 'train.max_steps 20'"
