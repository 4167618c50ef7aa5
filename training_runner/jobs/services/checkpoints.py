"""Checkpoints of training runs in the hub's storage, so a replacement worker can resume a run.

A checkpoint is a flat directory of safetensors and JSON files (``training_runner.core.trainer``).
It is copied to ``runs/<run id>/checkpoints/step-NNNNNN/`` in the ``blobs`` storage (local disk or
an object store, whatever the hub uses); the run row then names it, and the previous one is
removed. A checkpoint is only ever named once all of its files are stored.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from django.core.files import File
from django.db import transaction

from registry.storage import COPY_BUFFER, blob_storage
from training_runner.jobs.choices import RunState
from training_runner.jobs.models import Run


def checkpoint_prefix(*, run_id: int, step: int) -> str:
    return f"runs/{run_id}/checkpoints/step-{step:06d}"


def _delete_prefix(prefix: str) -> None:
    storage = blob_storage()
    try:
        _, names = storage.listdir(prefix)
    except FileNotFoundError:
        return
    for name in names:
        storage.delete(f"{prefix}/{name}")


def checkpoint_store(*, run_id: int, attempt: int, step: int, directory: Path) -> bool:
    """Copy ``directory`` (the checkpoint of ``step``) to storage and make it the run's checkpoint.

    Returns False, storing nothing the run names, when ``attempt`` no longer owns the run.
    """
    storage = blob_storage()
    prefix = checkpoint_prefix(run_id=run_id, step=step)
    for path in sorted(Path(directory).iterdir()):
        if path.is_file():
            key = f"{prefix}/{path.name}"
            if storage.exists(key):
                storage.delete(key)
            with open(path, "rb") as handle:
                storage.save(key, File(handle, name=path.name))
    with transaction.atomic():
        previous = (
            Run.objects.select_for_update()
            .filter(pk=run_id, attempt=attempt, state=RunState.RUNNING)
            .values_list("checkpoint_key", flat=True)
            .first()
        )
        if previous is None:
            _delete_prefix(prefix)
            return False
        Run.objects.filter(pk=run_id).update(checkpoint_step=step, checkpoint_key=prefix)
    if previous and previous != prefix:
        _delete_prefix(previous)
    return True


def checkpoint_fetch(*, run: Run, destination: Path) -> Path | None:
    """Download the run's newest checkpoint into ``destination`` (None when it has none)."""
    if not run.checkpoint_key:
        return None
    storage = blob_storage()
    target = Path(destination) / Path(run.checkpoint_key).name
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    _, names = storage.listdir(run.checkpoint_key)
    for name in names:
        with storage.open(f"{run.checkpoint_key}/{name}", "rb") as source, open(target / name, "wb") as sink:
            shutil.copyfileobj(source, sink, COPY_BUFFER)
    return target


def checkpoints_delete(*, run_id: int) -> None:
    """Remove every stored checkpoint of a run (its model is published; nothing resumes it)."""
    storage = blob_storage()
    root = f"runs/{run_id}/checkpoints"
    try:
        folders, _ = storage.listdir(root)
    except FileNotFoundError:
        return
    for folder in folders:
        _delete_prefix(f"{root}/{folder}")
    Run.objects.filter(pk=run_id).update(checkpoint_key="", checkpoint_step=None)
