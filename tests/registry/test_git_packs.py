"""Reading repositories as git objects (registry.selectors.packs) and the pack pieces of registry.git."""

import hashlib
import importlib
import zlib

import pytest
from django.apps import apps as django_apps
from django.db import connection
from django.test.utils import CaptureQueriesContext

from registry.git.objects import MODE_TREE, lfs_pointer, lfs_pointer_parse, object_id
from registry.git.packs import pack_write
from registry.models import GitCommit, GitTree
from registry.selectors.packs import commit_graph_load, commit_raw, pack_entries, pack_plan, refs_advertised
from registry.services.commits import commit_new_objects_record
from registry.trees import trees_load
from tests.frontend.builders import commit_files, make_repo
from tests.support.factories import make_user

pytestmark = pytest.mark.django_db


def _history(commits: int, name: str = "tiny"):
    alice = make_user(name)
    repo = make_repo(alice, name)
    for number in range(commits):
        commit_files(repo, alice, {f"dir{number % 3}/f{number}.txt": f"{number}\n".encode()}, summary=f"C{number}")
    return repo


def _clone_plan(repo):
    graph = commit_graph_load(repo=repo)
    return pack_plan(repo=repo, graph=graph, wants=[refs_advertised(repo=repo)["refs/heads/main"]], haves=[])


def _clone_queries(repo) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as queries:
        objects = list(pack_entries(repo=repo, plan=_clone_plan(repo)))
    return len(queries), len(objects)


def _entry_object(entry: bytes) -> tuple[int, bytes]:
    """``(type, body)`` of one pack entry: git's type-and-size header, then zlib data."""
    type_num, size, shift, position = (entry[0] >> 4) & 7, entry[0] & 15, 4, 0
    while entry[position] & 0x80:
        position += 1
        size |= (entry[position] & 0x7F) << shift
        shift += 7
    body = zlib.decompress(bytes(entry[position + 1 :]))
    assert len(body) == size
    return type_num, body


def _reachable(repo) -> set[str]:
    """Every tree and file id reachable from the repository's commits, walked tree by tree."""
    found, stack = set(), [commit.tree_oid for commit in GitCommit.objects.filter(repo=repo)]
    while stack:
        oid = stack.pop()
        if oid in found:
            continue
        found.add(oid)
        for entry in trees_load([oid])[oid]:
            if entry[0] == MODE_TREE:
                stack.append(entry[2])
            else:
                found.add(entry[2])
    return found


def test_a_clone_reads_the_database_in_a_fixed_number_of_queries():
    small = _clone_queries(_history(3, "small"))
    large = _clone_queries(_history(40, "large"))
    # Refs, the graph, the commits' new objects, the commits' pack entries, the trees' pack entries:
    # as many for 4 commits as for 41.
    assert small == (5, 4 + 4 + 3 + 4)  # commits, root trees, dirN/ trees, files (.gitattributes too)
    assert large == (5, 41 + 41 + 40 + 41)


def test_every_object_hashes_to_its_id_and_api_commits_rebuild_exactly():
    repo = _history(4)
    plan = _clone_plan(repo)
    kinds = {1: "commit", 2: "tree", 3: "blob"}
    ids = [*plan.commits, *plan.trees, *plan.blobs]
    entries = list(pack_entries(repo=repo, plan=plan))
    assert len(entries) == len(ids)
    for oid, entry in zip(ids, entries, strict=True):
        type_num, body = _entry_object(entry)
        assert object_id(kinds[type_num], body) == oid
    assert {*plan.trees, *plan.blobs} == _reachable(repo)
    head = GitCommit.objects.get(repo=repo, oid=refs_advertised(repo=repo)["refs/heads/main"])
    assert head.raw is None
    assert object_id("commit", commit_raw(head)) == head.oid


def test_rows_written_before_the_pack_columns_are_filled_and_give_the_same_pack():
    repo = _history(5, "older")
    before_plan = _clone_plan(repo)
    before = list(pack_entries(repo=repo, plan=before_plan))
    assert before_plan.computed == {}
    commits = GitCommit.objects.filter(repo=repo)
    stored = {row.oid: row.new_objects for row in commits}
    tree_oids = set(before_plan.trees)
    # As rows older than the columns look: nothing stored.
    commits.update(new_objects=None, pack_entry=None)
    GitTree.objects.filter(oid__in=tree_oids).update(pack_entry=None)

    plan = _clone_plan(repo)
    assert (plan.commits, plan.trees, plan.blobs) == (before_plan.commits, before_plan.trees, before_plan.blobs)
    assert plan.computed == stored  # computed on the fly exactly as written with the commits
    assert [bytes(entry) for entry in pack_entries(repo=repo, plan=plan)] == [bytes(entry) for entry in before]

    # A fetch stores the lists it computed; the migration fills the pack entries.
    commit_new_objects_record(repo=repo, found=plan.computed)
    assert {row.oid: row.new_objects for row in GitCommit.objects.filter(repo=repo)} == stored
    assert _clone_plan(repo).computed == {}
    migration = importlib.import_module("registry.migrations.0012_git_pack_entries")
    migration.pack_entries_fill(django_apps, None)
    assert not GitCommit.objects.filter(repo=repo, pack_entry__isnull=True).exists()
    assert not GitTree.objects.filter(oid__in=tree_oids, pack_entry__isnull=True).exists()
    assert [bytes(entry) for entry in pack_entries(repo=repo, plan=_clone_plan(repo))] == [
        bytes(entry) for entry in before
    ]


def test_a_fetch_sends_only_what_the_client_lacks():
    repo = _history(3)
    graph = commit_graph_load(repo=repo)
    head = refs_advertised(repo=repo)["refs/heads/main"]
    parent = graph[head].parents[0]
    plan = pack_plan(repo=repo, graph=graph, wants=[head], haves=[parent])
    assert plan.commits == [head]
    assert len(plan.trees) == 2  # the root and dir2/
    assert [blob.size for blob in plan.blobs.values()] == [2]
    assert pack_plan(repo=repo, graph=graph, wants=[head], haves=[head]).commits == []


def test_lfs_pointers_are_recognised_only_in_canonical_form():
    sha256 = hashlib.sha256(b"x").hexdigest()
    assert lfs_pointer_parse(lfs_pointer(sha256=sha256, size=1)) == (sha256, 1)
    assert lfs_pointer_parse(lfs_pointer(sha256=sha256, size=1) + b"ext-0-foo sha256:00\n") is None
    assert lfs_pointer_parse(lfs_pointer(sha256=sha256.upper(), size=1)) is None
    assert lfs_pointer_parse(b"version 1\n") is None


def test_pack_write_produces_what_git_reads():
    objects = [(3, b"hello\n"), (3, b"x" * 100_000)]
    pack = b"".join(pack_write(objects, count=2, chunk_size=10))
    assert pack[:12] == b"PACK\x00\x00\x00\x02\x00\x00\x00\x02"
    assert hashlib.sha1(pack[:-20]).digest() == pack[-20:]
    first = zlib.decompressobj()
    assert first.decompress(pack[13:]) == b"hello\n"
    with pytest.raises(ValueError, match="announced 3 objects and holds 2"):
        b"".join(pack_write(objects, count=3))
