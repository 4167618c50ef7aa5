"""Where a clone's and a push's time goes, in-process (no HTTP), on a history ``benchmarks/git.py``
left behind.

    .venv/bin/python benchmarks/git.py --keep /tmp/bench-git
    .venv/bin/python benchmarks/git_profile.py /tmp/bench-git/hub [--repo history] [--rounds 3]

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
    args = parser.parse_args()
    os.environ["HUB_DATA_DIR"] = str(args.data_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()
    from registry.git.packs import pack_write_entries
    from registry.models import GitTree, Repo
    from registry.selectors.packs import (
        commit_graph_load,
        new_objects_compute,
        pack_entries,
        pack_plan,
        refs_advertised,
        tree_pack_entry,
    )
    from registry.services.commits import commit_new_objects_record

    repo = Repo.objects.get(name=args.repo)
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


if __name__ == "__main__":
    main()
