"""Files a run leaves for people to download: an evaluation's per-item logs, exactly as the
harness wrote them (their sha256 is what the signed results name), in the hub's storage under
``runs/<run id>/eval/``."""

from __future__ import annotations

import re
from pathlib import Path
from typing import BinaryIO

from django.core.files import File

from common.errors import NotFound
from registry.storage import blob_storage
from training_runner.jobs.models import Run

SAMPLES_FILE = re.compile(r"^samples_[A-Za-z0-9_.-]+\.jsonl$")


def _key(run_id: int, name: str) -> str:
    return f"runs/{run_id}/eval/{name}"


def evaluation_files_store(*, run_id: int, directory: Path) -> list[str]:
    """Copy the per-item logs of ``directory`` (``samples_<task>.jsonl``) to the run's storage."""
    storage = blob_storage()
    stored = []
    for path in sorted(Path(directory).glob("samples_*.jsonl")):
        key = _key(run_id, path.name)
        if storage.exists(key):
            storage.delete(key)
        with open(path, "rb") as handle:
            storage.save(key, File(handle, name=path.name))
        stored.append(path.name)
    return stored


def evaluation_file_open(*, run: Run, task: str) -> BinaryIO:
    """The per-item log of ``task``; ``NotFound`` for a task the run does not have."""
    name = f"samples_{task}.jsonl"
    if not SAMPLES_FILE.match(name) or task not in (run.results or {}).get("tasks", {}):
        raise NotFound(f"Run {run.pk} has no task {task}.")
    try:
        return blob_storage().open(_key(run.pk, name), "rb")
    except FileNotFoundError:
        raise NotFound(f"The per-item log of {task} is not stored.") from None
