"""Celery wiring: queue routes, enqueue-after-commit, and a real worker on a real broker."""

import os

import pytest
from django.conf import settings
from django.db import transaction

from common.models import WorkerHeartbeat
from common.tasks import worker_heartbeat
from config.celery import QUEUE_DEFAULT, QUEUE_GPU, app
from tests.support.processes import celery_worker, wait_until

# The configured broker always; Redis and RabbitMQ too where CI names them (.ci/run does).
BROKERS = [
    pytest.param(None, id="configured"),
    pytest.param("HUB_TEST_REDIS_URL", id="redis"),
    pytest.param("HUB_TEST_RABBITMQ_URL", id="rabbitmq"),
]


@pytest.mark.parametrize(
    ("task_name", "queue"),
    [
        ("training_runner.jobs.tasks.run_execute_task", QUEUE_GPU),
        ("training_runner.jobs.tasks.runs_dispatch_task", QUEUE_DEFAULT),
        ("training_runner.jobs.tasks.runs_watchdog_task", QUEUE_DEFAULT),
        ("common.tasks.worker_heartbeat", QUEUE_DEFAULT),
        ("registry.tasks.anything", QUEUE_DEFAULT),
    ],
)
def test_routes_are_declared_in_one_place(task_name, queue):
    assert app.amqp.router.route({}, task_name)["queue"].name == queue


@pytest.mark.django_db
def test_tasks_are_sent_only_after_commit(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks, transaction.atomic():
        worker_heartbeat.delay_on_commit(QUEUE_DEFAULT)
    assert len(callbacks) == 1
    assert WorkerHeartbeat.objects.count() == 0


@pytest.mark.broker
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
# Inline execution is on for the code under test; send_task always publishes, as wanted here.
@pytest.mark.filterwarnings("ignore::celery.exceptions.AlwaysEagerIgnored")
@pytest.mark.parametrize("broker_env", BROKERS)
def test_a_real_worker_runs_tasks_from_both_queues(broker_env):
    assert not settings.CELERY_TASK_ALWAYS_EAGER
    broker_url = settings.CELERY_BROKER_URL
    if broker_env is not None:
        broker_url = os.environ.get(broker_env)
        if not broker_url:
            pytest.skip(f"{broker_env} is not set; .ci/run sets it to a running broker")
    # An explicit connection: Celery would otherwise prefer $CELERY_BROKER_URL to any other URL.
    with (
        celery_worker(queues=f"{QUEUE_DEFAULT},{QUEUE_GPU}", name="test-heartbeat", broker_url=broker_url) as worker,
        app.connection_for_write(broker_url) as connection,
    ):
        for queue in (QUEUE_DEFAULT, QUEUE_GPU):
            app.send_task(worker_heartbeat.name, args=(queue,), queue=queue, connection=connection)
        try:
            wait_until(
                lambda: (
                    WorkerHeartbeat.objects.filter(queue__in=[QUEUE_DEFAULT, QUEUE_GPU]).count() == 2
                    or worker.poll() is not None
                ),
                timeout=90,
                what="the worker to record both heartbeats",
            )
        except AssertionError:
            worker.terminate()
            raise AssertionError(f"no heartbeats; the worker said:\n{worker.communicate(timeout=30)[0]}") from None
        assert worker.poll() is None, worker.stdout.read()
    beats = {beat.queue: beat for beat in WorkerHeartbeat.objects.all()}
    assert set(beats) == {QUEUE_DEFAULT, QUEUE_GPU}
    assert beats[QUEUE_DEFAULT].hostname.startswith("test-heartbeat@")
    # Running the same task twice is harmless: it only counts another beat.
    worker_heartbeat.apply(args=(QUEUE_DEFAULT,))
    assert WorkerHeartbeat.objects.get(queue=QUEUE_DEFAULT).beats == beats[QUEUE_DEFAULT].beats + 1
