"""Runs on real Celery workers, over the configured broker and over Redis and RabbitMQ: submit,
run and publish; cancel; a worker killed mid-run is replaced and the run resumes from its
checkpoint to the very same weights, published once."""

from __future__ import annotations

import os
import re
import signal

import pytest
from django.conf import settings

from registry.models import Blob, GitCommit, Repo
from registry.selectors.revisions import revision_resolve
from registry.trees import tree_lookup
from tests.support.processes import celery_worker, publishing_to, wait_until
from tests.training_runner.jobs.conftest import TINY
from training_runner.jobs.choices import RunState
from training_runner.jobs.models import Run
from training_runner.jobs.services.lifecycle import run_cancel, runs_watchdog
from training_runner.jobs.services.submit_training import training_run_submit

BROKERS = [
    pytest.param(None, id="configured"),
    pytest.param("HUB_TEST_REDIS_URL", id="redis"),
    pytest.param("HUB_TEST_RABBITMQ_URL", id="rabbitmq"),
]
# One OpenMP thread in the workers: tiny models run faster, and two runs of one config on workers
# with the same thread count give bit-identical weights.
WORKER_ENV = {"OMP_NUM_THREADS": "1", "HUB_RUN_HEARTBEAT_SECONDS": "0.5"}

pytestmark = [
    pytest.mark.broker,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.filterwarnings("ignore::celery.exceptions.AlwaysEagerIgnored"),
]


STEPS = 400  # of the resumed run


def _broker(broker_env: str | None) -> str:
    if broker_env is None:
        return settings.CELERY_BROKER_URL
    url = os.environ.get(broker_env)
    if not url:
        pytest.skip(f"{broker_env} is not set; .ci/run sets it to a running broker")
    return url


def _wait(run: Run, predicate, *, worker, what: str, timeout: float = 180) -> Run:
    def check() -> bool:
        run.refresh_from_db()
        return predicate(run) or worker.poll() is not None

    try:
        wait_until(check, timeout=timeout, what=what)
    except AssertionError:
        worker.terminate()
        said = worker.communicate()[0]
        raise AssertionError(f"{what}: run is {run.state} ({run.reason}); worker said:\n{said}") from None
    assert worker.poll() is None, worker.stdout.read()
    return run


def _weights(repo: Repo, commit: str) -> bytes:
    tree = GitCommit.objects.get(repo=repo, oid=commit).tree_oid
    blob = Blob.objects.get(sha256=tree_lookup(tree, "model.safetensors").sha256)
    from registry.storage import blob_open

    with blob_open(blob) as handle:
        return handle.read()


def _submit(user, output: str, **params) -> Run:
    return training_run_submit(user=user, recipe="pretrain_clm", dataset="alice/greek", params={**TINY, **params},
                               output_repo=output)  # fmt: skip


@pytest.mark.parametrize("broker_env", BROKERS)
def test_a_worker_runs_publishes_and_cancels(alice, corpus, broker_env):
    url = _broker(broker_env)
    with (
        celery_worker(queues="default,gpu", name="runs-worker", broker_url=url, env=WORKER_ENV) as worker,
        publishing_to(url),
    ):
        run = _submit(alice, "alice/greek-a")
        run = _wait(run, lambda r: r.run_state.finished, worker=worker, what="the run to finish")
        assert run.state == RunState.SUCCEEDED, run.reason
        repo = Repo.objects.get(namespace__name="alice", name="greek-a")
        assert run.output_commit == revision_resolve(repo=repo, revision="main").oid
        assert run.worker.startswith("runs-worker@")

        long = _submit(alice, "alice/greek-b", **{"train.max_steps": 5000})
        long = _wait(long, lambda r: r.step >= 3, worker=worker, what="the long run to take steps")
        run_cancel(run_id=long.pk, user=alice)
        long = _wait(long, lambda r: r.run_state.finished, worker=worker, what="the run to stop")
    assert long.state == RunState.CANCELLED, long.reason
    assert (
        long.reason
        == f"Cancelled at step {long.checkpoint_step}; the checkpoint of step {long.checkpoint_step} is kept."
    )
    assert long.checkpoint_key == f"runs/{long.pk}/checkpoints/step-{long.checkpoint_step:06d}"
    from registry.storage import blob_storage

    assert sorted(blob_storage().listdir(long.checkpoint_key)[1]) == [
        "optimizer.safetensors", "rng-rank0.safetensors", "special_tokens_map.json", "tokenizer.json",
        "tokenizer_config.json", "train_config.yaml", "trainable.safetensors", "trainer_state.json",
    ]  # fmt: skip
    assert not Repo.objects.filter(name="greek-b").exists()


@pytest.mark.parametrize("broker_env", BROKERS)
def test_a_killed_worker_is_replaced_and_the_run_resumes_to_the_same_weights(alice, corpus, broker_env, settings):
    url = _broker(broker_env)
    settings.HUB_RUN_STALE_SECONDS = 3.0
    # Far more steps than the doomed worker can take between two polls after its checkpoint of
    # step 10 (a tiny model trains tens of steps in a quarter of a second on a fast CPU), so it is
    # killed mid-run rather than after its last checkpoint.
    resumable = {"train.max_steps": STEPS, "train.checkpoint_interval": 5, "train.eval_interval": 0}
    with publishing_to(url):
        with celery_worker(queues="default,gpu", name="doomed", broker_url=url, env=WORKER_ENV) as doomed:
            interrupted = _submit(alice, "alice/greek-resumed", **resumable)
            interrupted = _wait(interrupted, lambda r: (r.checkpoint_step or 0) >= 10, worker=doomed,
                                what="a stored checkpoint")  # fmt: skip
            os.kill(doomed.pid, signal.SIGKILL)
            doomed.wait(timeout=30)
        stored_before_kill = interrupted.checkpoint_step
        with celery_worker(queues="default,gpu", name="rescuer", broker_url=url, env=WORKER_ENV) as rescuer:

            def rescued(run: Run) -> bool:
                runs_watchdog()  # beat's job: notices the silent worker and queues the run again
                return run.run_state.finished

            interrupted = _wait(interrupted, rescued, worker=rescuer, what="the resumed run to finish")
            straight = _submit(alice, "alice/greek-straight", **resumable)
            straight = _wait(straight, lambda r: r.run_state.finished, worker=rescuer, what="the uninterrupted run")

    assert interrupted.state == straight.state == RunState.SUCCEEDED, (interrupted.reason, straight.reason)
    assert interrupted.worker.startswith("rescuer@")
    history = [(t.from_state, t.to_state) for t in interrupted.transitions.all()]
    assert history[:3] == [("", "queued"), ("queued", "running"), ("running", "queued")]
    assert history[-2:] == [("queued", "running"), ("running", "succeeded")]
    resumed_from = interrupted.transitions.filter(to_state="running").last().reason
    step = int(re.search(r"resuming from the checkpoint of step (\d+)\)", resumed_from).group(1))
    assert 10 <= stored_before_kill <= step < STEPS
    resumed_repo = Repo.objects.get(name="greek-resumed")
    straight_repo = Repo.objects.get(name="greek-straight")
    assert _weights(resumed_repo, interrupted.output_commit) == _weights(straight_repo, straight.output_commit)
    # Published once: the initial commit and the run's.
    assert GitCommit.objects.filter(repo=resumed_repo).count() == 2
