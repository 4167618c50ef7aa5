"""Conversion of a model's pickle checkpoints to safetensors: asked for by a writer, run by
``community.tasks.conversion_run_task`` in a sandboxed child process (``registry.conversion``), and
finished by a pull request with ``model.safetensors`` (sharded with an index when large) and a table
of tensor checksums before and after, opened through the one service that decides where a change
lands (``community.services.changes``).

A checkpoint whose pickle asks for globals outside the scanner's allow-list is refused with their
list before anything is loaded; the child itself only ever calls ``torch.load(weights_only=True)``.
A conversion is a row with a status (queued, running, succeeded, failed); running it twice is
harmless (the status moves by compare-and-swap).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from common.errors import HubError, ValidationError
from community.services.changes import change_apply, change_target
from registry.choices import ConversionStatus, RepoType, ScanStatus
from registry.conversion.sandbox import SandboxLimits, run_conversion
from registry.models import Blob, BlobScan, Conversion, Repo
from registry.selectors.conversions import conversion_sources
from registry.selectors.revisions import revision_resolve
from registry.services.commits import AddFile
from registry.services.scans import blob_scan, scans_queue
from registry.storage import blob_open, stage_file, staging_dir
from registry.trees import tree_files

SHARD_BYTES = 5 * 1000**3


def conversion_request(*, repo: Repo, user, branch: str) -> Conversion:
    """Queue a conversion of ``branch``'s checkpoints (the caller checked write access)."""
    if repo.type != RepoType.MODEL:
        raise ValidationError("Only model repositories hold checkpoints to convert.")
    resolved = revision_resolve(repo=repo, revision=branch)
    if resolved.ref != f"refs/heads/{branch}":
        raise ValidationError(f"{branch} is not a branch: a conversion opens a pull request against a branch.")
    files = tree_files(resolved.commit.tree_oid)
    if any(info.path in {"model.safetensors", "model.safetensors.index.json"} for info in files):
        raise ValidationError(f"{branch} already holds model.safetensors.")
    sources = conversion_sources(files)
    if not sources:
        raise ValidationError(f"{branch} has no pickle checkpoint (.bin, .pt, .pth, .ckpt) at its top level.")
    total = sum(info.size for info in sources)
    if total > settings.HUB_CONVERSION_MAX_BYTES:
        raise ValidationError(
            f"The checkpoints hold {total} bytes; conversions take {settings.HUB_CONVERSION_MAX_BYTES}."
        )
    from community.tasks import conversion_run_task

    with transaction.atomic():
        conversion = Conversion.objects.create(
            repo=repo,
            requested_by=user if getattr(user, "pk", None) else None,
            branch=branch,
            revision=resolved.commit.oid,
            sources=[{"path": i.path, "sha256": i.sha256, "size": i.size} for i in sources],
        )
        conversion_run_task.delay_on_commit(conversion.pk)
    return conversion


def _finish(conversion: Conversion, status: str, **fields) -> Conversion:
    for name, value in {"status": status, "finished_at": timezone.now(), **fields}.items():
        setattr(conversion, name, value)
    conversion.save()
    return conversion


def _scans_of(sources: list[dict]) -> list[BlobScan]:
    blobs = list(Blob.objects.filter(sha256__in=[s["sha256"] for s in sources]))
    scans_queue(blobs=blobs, hints={s["sha256"]: s["path"] for s in sources})
    scans = []
    for blob in blobs:
        scan = BlobScan.objects.get(blob=blob)
        if scan.state == ScanStatus.PENDING:
            scan = blob_scan(blob_id=blob.pk)
        scans.append(scan)
    return scans


def _description(conversion: Conversion, rows: list[dict], network_isolated: bool) -> str:
    sources = ", ".join(f"`{s['path']}`" for s in conversion.sources)
    lines = [
        f"Converts {sources} (at {conversion.revision[:12]}) to safetensors, which load without running code.",
        "",
        "The checkpoints were read with `torch.load(weights_only=True)` in a sandboxed process"
        + (" without network access." if network_isolated else " (network isolation was unavailable on this worker)."),
        "Every tensor's bytes were hashed (sha256) as loaded and again as read back from the new file:",
        "",
        "| tensor | dtype | shape | file | sha256 before | sha256 after | same |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        same = "yes" if row["before"] == row["after"] else "**NO**"
        shape = "×".join(str(n) for n in row["shape"]) or "scalar"
        lines.append(
            f"| `{row['name']}` | {row['dtype']} | {shape} | {row['file']} | `{row['before'][:16]}` | "
            f"`{row['after'][:16]}` | {same} |"
        )
    return "\n".join(lines) + "\n"


def conversion_run(*, conversion_id: int) -> Conversion | None:
    """Run a queued conversion: check the scans, convert in the sandbox, open the pull request."""
    moved = Conversion.objects.filter(pk=conversion_id, status=ConversionStatus.QUEUED).update(
        status=ConversionStatus.RUNNING, started_at=timezone.now()
    )
    conversion = Conversion.objects.filter(pk=conversion_id).select_related("repo", "requested_by").first()
    if not moved or conversion is None:
        return conversion
    scans = _scans_of(conversion.sources)
    needed = sorted(
        {f"{f['module']}.{f['name']}" for scan in scans for f in scan.findings if f.get("safety") != "innocuous"}
    )
    if needed:
        return _finish(
            conversion,
            ConversionStatus.FAILED,
            globals=needed,
            error="The checkpoint needs globals outside the weights-only allow-list, so it is not loaded: "
            + ", ".join(needed),
        )
    refused = [scan for scan in scans if scan.state in {ScanStatus.DANGEROUS, ScanStatus.ERROR}]
    if refused:
        issues = "; ".join(issue for scan in refused for issue in scan.issues) or "the scan found it unsafe"
        return _finish(conversion, ConversionStatus.FAILED, error=f"The checkpoint is not converted: {issues}")
    limits = SandboxLimits(
        cpu_seconds=settings.HUB_CONVERSION_CPU_SECONDS,
        memory_bytes=settings.HUB_CONVERSION_MEMORY_BYTES,
        wall_seconds=settings.HUB_CONVERSION_WALL_SECONDS,
        file_bytes=4 * settings.HUB_CONVERSION_MAX_BYTES,
    )
    with tempfile.TemporaryDirectory(dir=staging_dir(), prefix="conversion-") as folder:
        inputs = []
        for number, source in enumerate(conversion.sources):
            local = Path(folder) / f"input-{number}{Path(source['path']).suffix}"
            with blob_open(Blob.objects.get(sha256=source["sha256"])) as src, open(local, "wb") as dst:
                shutil.copyfileobj(src, dst, 1024 * 1024)
            inputs.append(local)
        outcome = run_conversion(folder=Path(folder), inputs=inputs, shard_bytes=SHARD_BYTES, limits=limits)
        if not outcome.ok:
            return _finish(conversion, ConversionStatus.FAILED, error=outcome.result.get("error", "failed"))
        rows = outcome.result["tensors"]
        if any(row["before"] != row["after"] for row in rows):
            return _finish(conversion, ConversionStatus.FAILED, checksums=rows, error="Tensors changed in conversion.")
        out = Path(folder) / "out"
        try:
            number = _pull_request_open(
                conversion,
                files={name: out / name for name in outcome.result["outputs"]},
                description=_description(conversion, rows, outcome.network_isolated),
            )
        except HubError as error:
            return _finish(conversion, ConversionStatus.FAILED, checksums=rows, error=error.message)
    return _finish(conversion, ConversionStatus.SUCCEEDED, checksums=rows, pull_request_num=number)


def _pull_request_open(conversion: Conversion, *, files: dict[str, Path], description: str) -> int:
    """Propose ``files`` (path in the repository -> local file) as a new pull request against the
    conversion's branch, on the commit it converted; returns the pull request's number."""
    user = conversion.requested_by
    target = change_target(repo=conversion.repo, user=user, revision=conversion.branch, create_pr=True)
    operations = [AddFile(path=path, staged=stage_file(local)) for path, local in files.items()]
    try:
        outcome = change_apply(
            repo=conversion.repo,
            user=user,
            target=target,
            operations=operations,
            summary="Convert the checkpoints to safetensors",
            description=description,
            parent_commit=conversion.revision,
        )
    finally:
        for op in operations:
            op.staged.discard()
    return outcome.pull_request.num
