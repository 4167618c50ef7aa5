"""JSON shapes of the HF protocol (HF_PROTOCOL.md §2): repository info, tree entries, commits, refs."""

from __future__ import annotations

from django.conf import settings
from django.template.defaultfilters import linebreaksbr
from django.utils.html import escape

from common.timefmt import iso_z
from registry.cards.vocab import BASE_MODEL_RELATIONS
from registry.models import GitCommit, Repo
from registry.selectors.scans import FileScan, TreeScanStatus
from registry.services.xet import xet_file_hash_for_sha256
from registry.trees import FileInfo, FolderInfo


def gated_value(repo: Repo):
    return repo.gated or False


def repo_summary(repo: Repo, *, sha: str | None, tags: list[str] | None = None) -> dict:
    """The fields of a listing entry (also the start of ``repo_info``); ``tags`` when a listing
    has read them for its page (``repo_tags``)."""
    if tags is None:
        tags = [row.tag for row in repo.tag_rows.all()]
    body = {
        "_id": str(repo.pk),
        "id": repo.repo_id,
        "author": repo.namespace.name,
        "sha": sha,
        "lastModified": iso_z(repo.last_modified),
        "createdAt": iso_z(repo.created_at),
        "private": repo.private,
        "gated": gated_value(repo),
        "disabled": repo.disabled,
        "downloads": repo.downloads,
        "downloadsAllTime": repo.downloads_all_time,
        "likes": repo.likes,
        "trendingScore": repo.trending_score,
        "tags": tags,
    }
    if repo.pipeline_tag:
        body["pipeline_tag"] = repo.pipeline_tag
    if repo.library_name:
        body["library_name"] = repo.library_name
    return body


def sibling(info: FileInfo, *, files_metadata: bool) -> dict:
    entry: dict = {"rfilename": info.path}
    if files_metadata:
        entry["size"] = info.size
        entry["blobId"] = info.oid
        if info.lfs:
            entry["lfs"] = {"size": info.size, "sha256": info.sha256, "pointerSize": info.pointer_size}
    return entry


def base_models(tags: list[str]) -> dict | None:
    """``baseModels`` of ``model_info`` as the Hub shapes it, read from the derived
    ``base_model:{relation}:{id}`` tags: ``{"relation", "models": [{"id"}]}``."""
    relation, models = None, []
    for tag in tags:
        parts = tag.split(":", 2)
        if len(parts) == 3 and parts[0] == "base_model" and parts[1] in BASE_MODEL_RELATIONS:
            relation = parts[1]
            models.append({"id": parts[2]})
    return {"relation": relation, "models": models} if models else None


def repo_info(
    repo: Repo, *, commit: GitCommit, files: list[FileInfo], files_metadata: bool, children: int | None = None
) -> dict:
    """``repo_info``; ``children`` (models only) is how many models name this one as their base."""
    body = repo_summary(repo, sha=commit.oid)
    if (bases := base_models(body["tags"])) is not None:
        body["baseModels"] = bases
    if children is not None:
        body["childrenModelCount"] = children
    body["lastModified"] = iso_z(commit.authored_at)
    body["cardData"] = repo.card_data or {}
    body["siblings"] = [sibling(info, files_metadata=files_metadata) for info in files]
    body["usedStorage"] = repo.used_storage
    body["xetEnabled"] = False
    if repo.description:
        body["description"] = repo.description
    model_index = (repo.card_data or {}).get("model-index")
    if model_index is not None:
        body["model-index"] = model_index
    return body


# The Hub's words for a file's scan state (``securityFileStatus.status``).
SECURITY_STATUS = {
    "clean": "safe",
    "suspicious": "caution",
    "dangerous": "unsafe",
    "pending": "queued",
    "error": "error",
}
SAFETY_ORDER = ("innocuous", "suspicious", "dangerous")


def security_file_status(found: FileScan) -> dict:
    """``securityFileStatus`` of a tree entry (``expand``), as huggingface_hub's ``RepoFile`` reads
    it: ``status``, ``avScan`` (no antivirus runs here: null) and ``pickleImportScan``."""
    scan = found.scan
    body: dict = {"status": SECURITY_STATUS[scan.state], "avScan": None, "pickleImportScan": None}
    if scan.kind in {"pickle", "zip"} and scan.findings:
        imports = [{"module": f["module"], "name": f["name"], "safety": f["safety"]} for f in scan.findings]
        highest = max((SAFETY_ORDER.index(i["safety"]) for i in imports if i["safety"] in SAFETY_ORDER), default=0)
        body["pickleImportScan"] = {"highestSafetyLevel": SAFETY_ORDER[highest], "imports": imports}
    body["scanner"] = f"{scan.scanner} {scan.scanner_version}".strip()
    body["issues"] = list(scan.issues)
    body["quarantined"] = found.quarantined
    if scan.scanned_at is not None:
        body["scannedAt"] = iso_z(scan.scanned_at)
    return body


def security_repo_status(status: TreeScanStatus) -> dict:
    """``securityRepoStatus`` of ``model_info(securityStatus=True)``: whether every scan finished
    and the files with issues."""
    return {
        "scansDone": status.done,
        "filesWithIssues": [
            {"path": path, "level": SECURITY_STATUS[found.state], "quarantined": found.quarantined}
            for path, found in status.issues
        ],
    }


def tree_entry(
    info: FileInfo | FolderInfo, *, last_commit: GitCommit | None = None, security: FileScan | None = None
) -> dict:
    if isinstance(info, FolderInfo):
        entry: dict = {"type": "directory", "oid": info.oid, "size": 0, "path": info.path}
    else:
        entry = {"type": "file", "oid": info.oid, "size": info.size, "path": info.path}
        if info.lfs:
            entry["lfs"] = {"oid": info.sha256, "size": info.size, "pointerSize": info.pointer_size}
            if settings.HUB_XET_DOWNLOADS and (xet_hash := xet_file_hash_for_sha256(info.sha256)):
                entry["xetHash"] = xet_hash
    if last_commit is not None:
        entry["lastCommit"] = {
            "id": last_commit.oid,
            "title": last_commit.title,
            "date": iso_z(last_commit.authored_at),
        }
    if security is not None:
        entry["securityFileStatus"] = security_file_status(security)
    return entry


def commit_entry(commit: GitCommit, *, formatted: bool = False) -> dict:
    entry = {
        "id": commit.oid,
        "title": commit.title,
        "message": commit.message,
        "date": iso_z(commit.authored_at),
        "authors": [{"user": commit.author_name}],
    }
    if formatted:
        # ``expand[]=formatted``: title and message as HTML (escaped text, line breaks kept).
        entry["formatted"] = {"title": escape(commit.title), "message": linebreaksbr(commit.message, autoescape=True)}
    return entry


def ref_entry(name: str, target: str) -> dict:
    short = name.split("/", 2)[2] if name.count("/") >= 2 else name
    return {"name": short, "ref": name, "targetCommit": target}
