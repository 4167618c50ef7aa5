"""The hub's signing key, and signing what an evaluation run produced.

The key signs every finished evaluation's results (``evals.harness.signing``); its public half is
served at ``/.well-known/llm-hub/results-signing-key.pem`` so anyone can check them with
``python -m evals verify``. It comes from ``HUB_SIGNING_KEY`` (PEM) or the file
``HUB_SIGNING_KEY_FILE``, which the first process to need it creates (exclusively, mode 0600).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.conf import settings

from evals.harness.signing import generate_private_key, public_key_pem, results_payload, sign
from training_runner.jobs.models import Run


def signing_private_key() -> bytes:
    if settings.HUB_SIGNING_KEY:
        return settings.HUB_SIGNING_KEY.encode()
    path = Path(settings.HUB_SIGNING_KEY_FILE)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it first
        else:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(generate_private_key())
    return path.read_bytes()


def signing_public_key() -> bytes:
    return public_key_pem(signing_private_key())


def evaluation_source(run: Run) -> dict[str, Any]:
    """Where signed results came from: the hub, the run, and the pinned model and suite."""
    suite: dict[str, Any] = {"name": run.suite, "hash": run.suite_hash}
    if run.dataset_repo_name:
        suite.update(repo=run.dataset_repo_name, commit=run.dataset_commit, file=run.suite_file)
    return {
        "hub": run.site_url,
        "run": run.pk,
        "model": {"repo": run.model_repo_name, "commit": run.model_commit},
        "suite": suite,
        "limit": run.limit,
    }


def evaluation_results_sign(*, run: Run, results: dict[str, Any]) -> dict[str, Any]:
    """The signed bundle of an evaluation run's results."""
    return sign(results_payload(results, source=evaluation_source(run)), private_pem=signing_private_key())
