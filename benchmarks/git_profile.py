"""Where a clone's and a push's time goes, in-process (no HTTP), on a history ``benchmarks/git.py``
left behind.

    .venv/bin/python benchmarks/git.py --keep /tmp/bench-git
    .venv/bin/python benchmarks/git_profile.py /tmp/bench-git/hub [--repo history] [--rounds 3]
    cp -r /tmp/bench-git/hub /tmp/bench-copy
    .venv/bin/python benchmarks/git_profile.py /tmp/bench-copy --push /tmp/bench-git/source

Per round of a clone of the default branch: CPU seconds of loading the commit graph, planning
(``pack_plan``; new objects computed for commits that have none, and stored) and reading and writing
the pack (``pack_entries`` through ``pack_write_entries``). Then the work a push of the whole
history adds to recording its commits: every commit's new objects and every tree's pack entry.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def cpu(fn):
    started = time.process_time()
    result = fn()
    return result, time.process_time() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data_dir", type=Path, help="the hub data folder (HUB_DATA_DIR) of a kept run")
    parser.add_argument("--repo", default="history")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--push", type=Path, metavar="SOURCE", help="time a push of this git repository's history")
    args = parser.parse_args()
    os.environ["HUB_DATA_DIR"] = str(args.data_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()
    from registry.models import Repo

    repo = Repo.objects.get(name=args.repo)
    if args.push:
        push_time(repo, args.push)
        return
    from registry.git.packs import pack_write_entries
    from registry.models import GitTree
    from registry.selectors.packs import (
        commit_graph_load,
        new_objects_compute,
        pack_entries,
        pack_plan,
        refs_advertised,
        tree_pack_entry,
    )
    from registry.services.commits import commit_new_objects_record

    head = refs_advertised(repo=repo)[f"refs/heads/{repo.default_branch}"]
    for _ in range(args.rounds):
        started = time.process_time()
        graph = commit_graph_load(repo=repo)
        planning = time.process_time()
        plan = pack_plan(repo=repo, graph=graph, wants=[head], haves=[])
        computed = len(plan.computed)
        if computed:
            commit_new_objects_record(repo=repo, found=plan.computed)
        writing = time.process_time()
        size = sum(len(chunk) for chunk in pack_write_entries(pack_entries(repo=repo, plan=plan), count=len(plan)))
        done = time.process_time()
        print(
            f"clone: {len(plan)} objects, {size / 1e6:.1f} MB; CPU s: graph {planning - started:.3f}, "
            f"plan {writing - planning:.3f} ({computed} commits' new objects computed), "
            f"read and write {done - writing:.3f}, total {done - started:.3f}"
        )
    items = {oid: (node.tree, [graph[parent].tree for parent in node.parents]) for oid, node in graph.items()}
    _, new_s = cpu(lambda: new_objects_compute(items))
    trees = list(GitTree.objects.filter(oid__in=plan.trees).values_list("entries", flat=True))
    _, entries_s = cpu(lambda: [tree_pack_entry(entries) for entries in trees])
    print(
        f"push: CPU s: new objects of {len(items)} commits {new_s:.3f}, "
        f"pack entries of {len(trees)} trees {entries_s:.3f}"
    )


def push_time(repo, source: Path) -> None:
    import io
    import subprocess

    from django.contrib.auth import get_user_model
    from django.core.cache import cache

    from registry.models import Blob, GitCommit, GitTree, Ref, RepoBlob
    from registry.services.pushes.pack import PushStream
    from registry.services.pushes.receive import push_receive
    from registry.services.pushes.rules import RefUpdate

    first = GitCommit.objects.get(repo=repo, generation=0)
    head = subprocess.run(["git", "rev-parse", "main"], cwd=source, capture_output=True, text=True, check=True)
    revisions = f"main\n^{first.oid}\n".encode()
    pack = subprocess.run(
        ["git", "pack-objects", "--stdout", "--revs", "-q"],
        cwd=source,
        input=revisions,
        capture_output=True,
        check=True,
    ).stdout
    # Back to the state before the push: the first commit, its tree and its files only.
    GitCommit.objects.filter(repo=repo).exclude(pk=first.pk).delete()
    Ref.objects.filter(repo=repo, name=f"refs/heads/{repo.default_branch}").update(target_oid=first.oid)
    GitTree.objects.exclude(oid=first.tree_oid).delete()
    kept = [entry[4] for entry in GitTree.objects.get(oid=first.tree_oid).entries if len(entry) > 3]
    RepoBlob.objects.exclude(blob__sha256__in=kept).delete()
    Blob.objects.exclude(sha256__in=kept).delete()
    cache.clear()
    stream = io.BytesIO(pack)
    update = RefUpdate(name=f"refs/heads/{repo.default_branch}", old=first.oid, new=head.stdout.strip())
    user = get_user_model().objects.get(username=repo.namespace.name)  # the benchmark's user owns it
    started, wall = time.process_time(), time.perf_counter()
    results = push_receive(repo=repo, user=user, updates=[update], stream=PushStream(read=stream.read))
    cpu_s, wall_s = time.process_time() - started, time.perf_counter() - wall
    print(f"push: {len(pack) / 1e6:.1f} MB pack, {results[0].error or 'ok'}; CPU s {cpu_s:.2f}, wall s {wall_s:.2f}")


if __name__ == "__main__":
    main()
