"""Permanently deleting LFS objects from a repository (the HF client's ``permanently_delete_lfs_files``).

The Hub rewrites history so that no commit names the deleted content any more; so does this hub.
Every commit whose tree holds one of the objects is rebuilt without those files (same author, date
and message; its descendants get new parents), refs move to the rewritten commits, the old commits
are dropped, and content no other repository holds is deleted from storage.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models import ProtectedError

from common.errors import ValidationError
from registry.git.objects import Signature
from registry.models import Blob, GitCommit, Ref, Repo, RepoBlob
from registry.packcache import pack_cache_purge
from registry.services.commits import commit_object_record
from registry.services.metadata import repo_on_default_branch_commit
from registry.services.refs import ref_compare_and_swap
from registry.storage import blob_storage
from registry.trees import TreeEditor, tree_files

logger = logging.getLogger(__name__)


def _tree_without(tree: str, sha256s: set[str]) -> str:
    doomed = [info.path for info in tree_files(tree) if info.lfs and info.sha256 in sha256s]
    if not doomed:
        return tree
    editor = TreeEditor(tree)
    for path in doomed:
        editor.delete_file(path)
    return editor.write()


def _history_rewrite(*, repo: Repo, sha256s: set[str]) -> dict[str, GitCommit]:
    """Rebuild every commit that holds (or descends from one that holds) the objects; old id -> new commit."""
    rewritten: dict[str, GitCommit] = {}
    trees: dict[str, str] = {}
    for commit in GitCommit.objects.filter(repo=repo).order_by("generation", "authored_at"):
        if commit.tree_oid not in trees:
            trees[commit.tree_oid] = _tree_without(commit.tree_oid, sha256s)
        tree = trees[commit.tree_oid]
        if tree == commit.tree_oid and not any(parent in rewritten for parent in commit.parents):
            continue
        parents = [rewritten.get(parent) or GitCommit.objects.get(repo=repo, oid=parent) for parent in commit.parents]
        signature = Signature(name=commit.author_name, email=commit.author_email, when=commit.authored_at)
        rewritten[commit.oid] = commit_object_record(
            repo=repo, author=commit.author, signature=signature, tree=tree, parents=parents, message=commit.message
        )
    return rewritten


def _content_delete(sha256s: set[str]) -> None:
    """Delete stored content no repository holds any more (after the transaction commits)."""
    for blob in Blob.objects.filter(sha256__in=sha256s, repo_links__isnull=True):
        key = blob.storage_key
        try:
            blob.delete()
        except ProtectedError:  # linked again meanwhile
            continue
        try:
            blob_storage().delete(key)
        except OSError:
            logger.warning("could not delete the stored content %s", key, exc_info=True)


def lfs_files_delete(*, repo: Repo, sha256s: list[str], rewrite_history: bool) -> int:
    """Remove the LFS objects ``sha256s`` from every commit of ``repo``; returns how many commits were
    rewritten. Only the history rewrite is offered (``rewrite_history=False`` is a 400): objects the
    history still named could no longer be downloaded."""
    if not rewrite_history:
        raise ValidationError(
            "This hub deletes LFS files only by rewriting history (rewriteHistory: true): commits would "
            "otherwise keep naming content that no longer exists."
        )
    wanted = {sha.lower() for sha in sha256s if isinstance(sha, str)}
    if len(wanted) != len(sha256s):
        raise ValidationError("'sha' must list sha256 ids of LFS files (fileOid).")
    with transaction.atomic():
        rewritten = _history_rewrite(repo=repo, sha256s=wanted)
        for ref in Ref.objects.filter(repo=repo, target_oid__in=list(rewritten)):
            new = rewritten[ref.target_oid]
            ref_compare_and_swap(repo=repo, name=ref.name, expected=ref.target_oid, new=new.oid)
            if ref.name == f"refs/heads/{repo.default_branch}":
                repo_on_default_branch_commit(repo=repo, commit=new, card=None, card_changed=False)
        kept = [commit.oid for commit in rewritten.values()]
        GitCommit.objects.filter(repo=repo, oid__in=list(rewritten)).exclude(oid__in=kept).delete()
        RepoBlob.objects.filter(repo=repo, blob__sha256__in=wanted).delete()
        transaction.on_commit(lambda: _content_delete(wanted))
        transaction.on_commit(lambda: pack_cache_purge(repo_pk=repo.pk))
    return len(rewritten)
