"""Reading repositories as git objects (registry.selectors.packs) and the pack pieces of registry.git."""

import hashlib
import zlib

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from registry.git.objects import lfs_pointer, lfs_pointer_parse, object_id
from registry.git.packs import pack_write
from registry.models import GitCommit
from registry.selectors.packs import commit_graph_load, commit_raw, pack_objects, pack_plan, refs_advertised
from tests.frontend.builders import commit_files, make_repo
from tests.support.factories import make_user

pytestmark = pytest.mark.django_db


def _history(commits: int, name: str = "tiny"):
    alice = make_user(name)
    repo = make_repo(alice, name)
    for number in range(commits):
        commit_files(repo, alice, {f"dir{number % 3}/f{number}.txt": f"{number}\n".encode()}, summary=f"C{number}")
    return repo


def _clone_queries(repo) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as queries:
        graph = commit_graph_load(repo=repo)
        plan = pack_plan(graph=graph, wants=[refs_advertised(repo=repo)["refs/heads/main"]], haves=[])
        objects = list(pack_objects(repo=repo, plan=plan))
    return len(queries), len(objects)


def test_a_clone_reads_the_database_in_a_fixed_number_of_queries():
    small = _clone_queries(_history(3, "small"))
    large = _clone_queries(_history(40, "large"))
    # Refs, the graph, one query per tree level (roots, then dirN/), the commits' rows and the hub's own
    # commits' fields: as many for 4 commits as for 41.
    assert small == (6, 4 + 4 + 3 + 4)  # commits, root trees, dirN/ trees, files (.gitattributes too)
    assert large == (6, 41 + 41 + 40 + 41)


def test_every_object_hashes_to_its_id_and_api_commits_rebuild_exactly():
    repo = _history(4)
    graph = commit_graph_load(repo=repo)
    plan = pack_plan(graph=graph, wants=[refs_advertised(repo=repo)["refs/heads/main"]], haves=[])
    kinds = {1: "commit", 2: "tree", 3: "blob"}
    for type_num, oid, body in pack_objects(repo=repo, plan=plan):
        assert object_id(kinds[type_num], body) == oid
    head = GitCommit.objects.get(repo=repo, oid=refs_advertised(repo=repo)["refs/heads/main"])
    assert head.raw is None
    assert object_id("commit", commit_raw(head)) == head.oid


def test_a_fetch_sends_only_what_the_client_lacks():
    repo = _history(3)
    graph = commit_graph_load(repo=repo)
    head = refs_advertised(repo=repo)["refs/heads/main"]
    parent = graph[head].parents[0]
    plan = pack_plan(graph=graph, wants=[head], haves=[parent])
    assert plan.commits == [head]
    assert len(plan.trees) == 2  # the root and dir2/
    assert [blob.size for blob in plan.blobs.values()] == [2]
    assert pack_plan(graph=graph, wants=[head], haves=[head]).commits == []


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
