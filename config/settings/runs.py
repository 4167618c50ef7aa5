"""Training and evaluation runs (``training_runner.jobs``): the fair queue, worker liveness,
checkpoints and where runs keep their files."""

from config.env import env
from config.settings.base import DATA_DIR

# Runs that may execute at once: the number of processes serving the ``gpu`` queue (one per GPU).
HUB_RUN_SLOTS = env.int("HUB_RUN_SLOTS", 1, minimum=1)
# Fair queue: queued runs a user may hold, and runs of one user that execute at once.
HUB_RUN_MAX_QUEUED_PER_USER = env.int("HUB_RUN_MAX_QUEUED_PER_USER", 5, minimum=1)
HUB_RUN_MAX_RUNNING_PER_USER = env.int("HUB_RUN_MAX_RUNNING_PER_USER", 1, minimum=1)
# A worker refreshes a running run's heartbeat this often; a run whose heartbeat is older than
# HUB_RUN_STALE_SECONDS has lost its worker and is queued again to resume from its checkpoint.
HUB_RUN_HEARTBEAT_SECONDS = env.float("HUB_RUN_HEARTBEAT_SECONDS", 5.0, minimum=0.1)
HUB_RUN_STALE_SECONDS = env.float("HUB_RUN_STALE_SECONDS", 90.0, minimum=1.0)
# Training steps between checkpoints copied to the hub's storage, unless a run sets
# train.checkpoint_interval itself.
HUB_RUN_CHECKPOINT_STEPS = env.int("HUB_RUN_CHECKPOINT_STEPS", 100, minimum=1)
# Upper bound of train.max_steps a run may ask for, and of items per task an evaluation scores.
HUB_RUN_MAX_STEPS = env.int("HUB_RUN_MAX_STEPS", 100_000, minimum=1)
# Items per batch when an evaluation run scores (per-item results do not depend on it).
HUB_EVAL_BATCH_SIZE = env.int("HUB_EVAL_BATCH_SIZE", 8, minimum=1)
# Working folders of runs on the worker, and the local cache of repository snapshots they read.
HUB_RUN_WORK_DIR = env.path("HUB_RUN_WORK_DIR", DATA_DIR / "runs")
HUB_SNAPSHOT_DIR = env.path("HUB_SNAPSHOT_DIR", DATA_DIR / "snapshots")
# The Ed25519 key that signs evaluation results (PEM). Set HUB_SIGNING_KEY on every worker of a
# multi-machine hub; otherwise the key lives in HUB_SIGNING_KEY_FILE, created on first use.
HUB_SIGNING_KEY = env.optional_str("HUB_SIGNING_KEY")
HUB_SIGNING_KEY_FILE = env.path("HUB_SIGNING_KEY_FILE", DATA_DIR / "keys" / "results-signing-key.pem")
