"""Applying a push: read the pack, check it whole, write its objects, then move each ref."""

from __future__ import annotations

from collections.abc import Callable

from django.core.cache import cache
from django.db import transaction

from common.errors import PermissionDenied, PreconditionFailed, ValidationError
from registry.git.packs import PackError
from registry.hooks import pull_request_refs
from registry.models import GitCommit, GitTree, Ref, Repo, RepoBlob
from registry.selectors.packs import commit_graph_load, tree_pack_entry
from registry.services.commits import commit_objects_record
from registry.services.metadata import repo_on_default_branch_commit
from registry.services.pushes.checks import Checked, Checker, new_commits_sorted, tip_check
from registry.services.pushes.pack import PushStream, Received, pack_read, stream_drain
from registry.services.pushes.rules import PushRefused, RefResult, RefUpdate, ref_permission_error, ref_update_check
from registry.services.refs import ref_compare_and_swap
from registry.services.scans import scans_queue_for_files
from registry.storage import blobs_promote
from registry.trees import CACHE_PREFIX, CACHE_SECONDS


def push_receive(
    *,
    repo: Repo,
    user,
    updates: list[RefUpdate],
    stream: PushStream | None,
    atomic: bool = False,
    progress: Callable[[str], None] = lambda message: None,
) -> list[RefResult]:
    """Apply a push: read the pack (if any), check it whole, then move each ref by compare-and-swap.

    Returns one result per update, in order; a refusal names its reason (git shows it after the
    ref). A pack that cannot be accepted at all raises ``PushRefused``/``PackError`` after the
    stream was read to its end, with nothing written.
    """
    results = [
        RefResult(name=update.name, error=ref_permission_error(repo=repo, user=user, update=update))
        for update in updates
    ]
    received = Received()
    try:
        if stream is not None:
            if all(result.error for result in results) or (atomic and any(result.error for result in results)):
                stream_drain(stream)
                stream = None
            else:
                try:
                    received = pack_read(stream, progress)
                except PackError as error:
                    stream_drain(stream)
                    raise PushRefused(str(error)) from None
        if any(result.error for result in results) and (atomic or all(result.error for result in results)):
            for result in results:
                result.error = result.error or "atomic push failed"
                progress(f"error: {result.name}: {result.error}")
            return results
        graph = commit_graph_load(repo=repo)
        refs = dict(Ref.objects.filter(repo=repo).values_list("name", "target_oid"))
        live = [(update, result) for update, result in zip(updates, results, strict=True) if result.error is None]
        tips = [update.new for update, _ in live if update.new is not None]
        new_commits = new_commits_sorted(received=received, graph=graph, tips=tips)
        checker = Checker(repo=repo, received=received, graph=graph)
        checked = checker.check(new_commits)
        if checker.errors:
            for message in checker.errors:
                progress(f"error: {message}")
            raise PushRefused(checker.errors[0])

        parents = {oid: commit.parents for oid, commit in new_commits.items()}
        parents.update({oid: node.parents for oid, node in graph.items()})

        def is_ancestor(ancestor: str, descendant: str) -> bool:
            return ancestor in _reachable(parents, descendant)

        cards = {}
        for update, result in live:
            result.error = ref_update_check(
                repo=repo, user=user, update=update, current=refs.get(update.name), is_ancestor=is_ancestor
            )
            if result.error is None and update.new is not None:
                result.error = tip_check(checker, update, cards)
        refused = [result for result in results if result.error]
        if atomic and refused:
            for result in results:
                result.error = result.error or f"atomic push failed: {refused[0].name} was refused"
        else:
            _write_objects(repo=repo, checked=checked)
            _move_refs(
                repo=repo,
                user=user,
                live=[(u, r) for u, r in live if r.error is None],
                checked=checked,
                cards=cards,
                atomic=atomic,
            )
        for result in results:
            if result.error:
                progress(f"error: {result.name}: {result.error}")
        return results
    finally:
        received.discard()


def _reachable(parents: dict[str, tuple[str, ...]], head: str) -> set[str]:
    seen: set[str] = set()
    stack = [head]
    while stack:
        oid = stack.pop()
        if oid in seen:
            continue
        seen.add(oid)
        stack.extend(parents.get(oid, ()))
    return seen


def _write_objects(*, repo: Repo, checked: Checked) -> None:
    """Files and trees, before any ref moves: content-addressed, so writing them twice is harmless."""
    if checked.promote:
        blobs = blobs_promote(list(checked.promote.values()))
        RepoBlob.objects.bulk_create(
            [RepoBlob(repo=repo, blob=blob) for blob in blobs.values()], ignore_conflicts=True, batch_size=500
        )
        scans_queue_for_files(
            files=[(path, blobs[checked.promote[oid].sha256], False) for oid, path in checked.scan_paths.items()]
        )
    if checked.tree_rows:
        GitTree.objects.bulk_create(
            [
                GitTree(oid=oid, entries=entries, pack_entry=tree_pack_entry(entries))
                for oid, entries in checked.tree_rows.items()
            ],
            ignore_conflicts=True,
            batch_size=500,
        )
        cache.set_many({CACHE_PREFIX + oid: entries for oid, entries in checked.tree_rows.items()}, CACHE_SECONDS)


def _move_refs(*, repo: Repo, user, live: list, checked: Checked, cards: dict, atomic: bool) -> None:
    """Record each ref's new commits and move it; one transaction per ref, or one for all."""
    default = f"refs/heads/{repo.default_branch}"

    def apply(update: RefUpdate) -> None:
        commits = []
        if update.new is not None:
            reachable = _reachable({oid: c.parents for oid, c in checked.new_commits.items()}, update.new)
            commits = [commit for oid, commit in checked.new_commits.items() if oid in reachable]
            commit_objects_record(repo=repo, user=user, commits=commits, trees=checked.tree_rows)
        ref_compare_and_swap(repo=repo, name=update.name, expected=update.old, new=update.new)
        if update.name.startswith("refs/pr/"):
            rows = {c.oid: c for c in GitCommit.objects.filter(repo=repo, oid__in=[c.oid for c in commits])}
            pull_request_refs().record_commits(
                repo=repo, user=user, num=int(update.name[8:]), commits=[rows[commit.oid] for commit in commits]
            )
        if update.name == default and update.new is not None:
            tip = GitCommit.objects.get(repo=repo, oid=update.new)
            changed = update.name in cards
            repo_on_default_branch_commit(repo=repo, commit=tip, card=cards.get(update.name), card_changed=changed)

    if atomic:
        try:
            with transaction.atomic():
                for update, _ in live:
                    apply(update)
        except (PreconditionFailed, PermissionDenied, ValidationError) as error:
            for _, result in live:
                result.error = f"atomic push failed: {error.message}"
        return
    for update, result in live:
        try:
            with transaction.atomic():
                apply(update)
        except (PreconditionFailed, PermissionDenied, ValidationError) as error:
            result.error = f"stale info: {error.message}" if isinstance(error, PreconditionFailed) else error.message
