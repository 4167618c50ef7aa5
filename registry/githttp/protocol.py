"""The git wire protocol (v0/v1, stateless RPC as smart HTTP speaks it) over the hub's own store.

``dulwich`` speaks the protocol: ref advertisement, capabilities, want/have negotiation with its ACK
modes, shallow requests, side-band, report-status. What it reads and writes goes through the
adapters here, which answer from the database (``registry.selectors.packs``) and hand pushes to
``registry.services.pushes`` — there is no repository on disk.

Two of dulwich's handler methods are replaced, against the pinned version:

- ``UploadPackHandler.handle`` is split in two, :meth:`HubUploadPack.negotiate` (the small answer
  to wants and haves) and :meth:`HubUploadPack.pack_chunks` (the pack, produced while the response
  streams), so a clone's pack is never built in memory and objects are read in batches;
- ``ReceivePackHandler._apply_pack`` hands the pack and the ref updates to the push service, which
  applies the registry's rules and answers per ref.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from dulwich.object_format import DEFAULT_OBJECT_FORMAT
from dulwich.objects import Commit, ShaFile
from dulwich.protocol import (
    CAPABILITY_FILTER,
    CAPABILITY_NO_DONE,
    CAPABILITY_NO_PROGRESS,
    CAPABILITY_SIDE_BAND_64K,
    COMMAND_DEEPEN,
    COMMAND_SHALLOW,
    SIDE_BAND_CHANNEL_DATA,
    SIDE_BAND_CHANNEL_PROGRESS,
)
from dulwich.server import Backend, ReceivePackHandler, UploadPackHandler, _ProtocolGraphWalker

from common.errors import HubError
from registry.git.packs import pack_write_entries
from registry.models import Repo
from registry.packcache import CachedPack, clone_key, pack_cache_get, pack_cache_tee
from registry.selectors.packs import CommitNode, PackPlan, commits_raw, pack_entries, pack_plan
from registry.services.commits import commit_new_objects_record
from registry.services.pushes.pack import PushStream
from registry.services.pushes.receive import push_receive
from registry.services.pushes.rules import RefUpdate

ZERO_ID = b"0" * 40
# A side-band-64k packet carries at most 65520 bytes: 4 of length, 1 of channel, the rest data.
SIDE_BAND_DATA = 65515
# Pack bytes gathered before a response chunk is handed to the server.
RESPONSE_CHUNK = 256 * 1024
# Commits materialised per query while dulwich walks history during negotiation.
COMMIT_WINDOW = 256


class _Refs:
    """The one part of dulwich's refs container the handlers use: the ``HEAD`` symref."""

    def __init__(self, repo: Repo) -> None:
        self._head = f"refs/heads/{repo.default_branch}".encode()

    def get_symrefs(self) -> dict[bytes, bytes]:
        return {b"HEAD": self._head}


class _CommitStore:
    """What dulwich's negotiation reads from an object store: which commits exist, their parents
    (for shallow depth) and the commits themselves (for commit times), ``COMMIT_WINDOW`` per query."""

    def __init__(self, repo: Repo, graph: dict[str, CommitNode]) -> None:
        self._repo = repo
        self._graph = graph
        self._commits: dict[bytes, Commit] = {}

    def __contains__(self, sha: bytes) -> bool:
        return sha.decode("ascii", "replace") in self._graph

    def __getitem__(self, sha: bytes) -> ShaFile:
        if sha not in self._commits:
            self._load_window(sha.decode("ascii", "replace"))
        return self._commits[sha]

    def _load_window(self, oid: str) -> None:
        if oid not in self._graph:
            raise KeyError(oid)
        if len(self._commits) > 50 * COMMIT_WINDOW:
            self._commits.clear()
        window, stack = [], [oid]
        while stack and len(window) < COMMIT_WINDOW:
            current = stack.pop()
            if current in window or current.encode() in self._commits or current not in self._graph:
                continue
            window.append(current)
            stack.extend(self._graph[current].parents)
        for found, body in commits_raw(repo=self._repo, oids=window).items():
            self._commits[found.encode()] = Commit.from_raw_string(Commit.type_num, body, sha=found.encode())

    def get_commit_graph(self) -> _CommitStore:
        return self

    def get_parents(self, sha: bytes) -> list[bytes] | None:
        node = self._graph.get(sha.decode("ascii", "replace"))
        return None if node is None else [parent.encode() for parent in node.parents]


class RepoBackend(Backend):
    """One repository as dulwich's handlers see it (``open_repository`` returns the backend itself)."""

    object_format = DEFAULT_OBJECT_FORMAT
    # dulwich's hook scripts: none; the push service is where pushes are checked.
    hooks: dict = {}

    def __init__(
        self, *, repo: Repo, refs: dict[str, str], graph: dict[str, CommitNode] | None, user=None, head: bool = True
    ) -> None:
        self.repo = repo
        self._head = head
        self.user = user
        self._refs = {name.encode(): oid.encode() for name, oid in refs.items()}
        self.refs = _Refs(repo)
        self.object_store = _CommitStore(repo, graph or {})
        self.graph = graph or {}

    def open_repository(self, path: str) -> RepoBackend:
        return self

    def get_refs(self) -> dict[bytes, bytes]:
        refs = dict(self._refs)
        head = self._refs.get(self.refs.get_symrefs()[b"HEAD"]) if self._head else None
        if head is not None:
            refs[b"HEAD"] = head
        return refs

    def get_peeled(self, ref: bytes) -> bytes | None:
        # Refs name commits only (annotated tags are refused on push), so each peels to itself.
        return self.get_refs().get(ref)


class _GraphWalker(_ProtocolGraphWalker):
    """dulwich's negotiation, plus fetches *into* a shallow clone without a new depth: git then
    sends its shallow commits and no ``deepen`` line, and expects no shallow section back."""

    def _handle_shallow_request(self, wants) -> None:
        while True:
            command, value = self.read_proto_line((COMMAND_DEEPEN, COMMAND_SHALLOW, None))
            if command == COMMAND_SHALLOW:
                self.client_shallow.add(value)
                continue
            if command is None:
                return
            break
        self.unread_proto_line(COMMAND_DEEPEN, value)
        super()._handle_shallow_request(wants)


class HubUploadPack(UploadPackHandler):
    """``git-upload-pack``: :meth:`negotiate` answers the request, :meth:`pack_chunks` streams the pack."""

    repo: RepoBackend
    # Set by negotiate() when the fetch is a clone whose pack may be cached.
    _clone_key: str | None = None

    def capabilities(self) -> list[bytes]:
        # Partial clone filters are not offered: every fetch gets whole trees.
        return [cap for cap in super().capabilities() if cap != CAPABILITY_FILTER]

    def negotiate(self) -> PackPlan | CachedPack | None:
        """Read wants and haves and answer them; the plan of the pack to send, a cached pack that
        answers the same (a clone: no haves, no shallow boundary), or None (no pack in this round
        of the negotiation)."""
        self._processing_have_lines = True
        walker = _GraphWalker(self, self.repo.object_store, self.repo.get_peeled, self.repo.refs.get_symrefs)
        wants = walker.determine_wants(self.repo.get_refs(), None)
        if not wants:
            return None
        haves = []
        sha = walker.next()
        while sha:
            if sha in self.repo.object_store:
                haves.append(sha)
                walker.ack(sha)
            sha = walker.next()
        if not walker.handle_done(not self.has_capability(CAPABILITY_NO_DONE), self._done_received):
            return None
        self._processing_have_lines = False
        self._clone_key = None
        if not haves and not (walker.client_shallow or walker.shallow or walker.unshallow):
            self._clone_key = clone_key(w.decode() for w in wants)
            cached = pack_cache_get(repo_pk=self.repo.repo.pk, key=self._clone_key)
            if cached is not None:
                return cached
        plan = pack_plan(
            repo=self.repo.repo,
            graph=self.repo.graph,
            wants=[w.decode() for w in wants],
            haves=[h.decode() for h in haves],
            client_shallow={s.decode() for s in walker.client_shallow},
            new_shallow={s.decode() for s in walker.shallow},
            unshallow={s.decode() for s in walker.unshallow},
        )
        if plan.computed:
            # Rows older than ``GitCommit.new_objects``: the next fetch reads what this one computed.
            commit_new_objects_record(repo=self.repo.repo, found=plan.computed)
        return plan

    def pack_chunks(self, plan: PackPlan | CachedPack) -> Iterator[bytes]:
        """The pack of ``plan`` in side-band packets, then the closing flush. A clone's pack is
        kept for the next clone of the same refs on the way (``registry.packcache``)."""
        count = plan.count if isinstance(plan, CachedPack) else len(plan)
        if not self.has_capability(CAPABILITY_NO_PROGRESS):
            yield _side_band(SIDE_BAND_CHANNEL_PROGRESS, f"Counting objects: {count}, done.\n".encode())
        if isinstance(plan, CachedPack):
            chunks = plan.chunks(RESPONSE_CHUNK)
        else:
            entries = pack_entries(repo=self.repo.repo, plan=plan)
            chunks = pack_write_entries(entries, count=count, chunk_size=RESPONSE_CHUNK)
            if self._clone_key is not None:
                chunks = pack_cache_tee(chunks, repo_pk=self.repo.repo.pk, key=self._clone_key)
        for chunk in chunks:
            yield _side_band(SIDE_BAND_CHANNEL_DATA, chunk)
        yield b"0000"

    def handle(self) -> None:
        raise NotImplementedError("use negotiate() and pack_chunks(): the pack streams with the response")


def _side_band(channel: int, data: bytes) -> bytes:
    packets = bytearray()
    for start in range(0, len(data), SIDE_BAND_DATA):
        piece = data[start : start + SIDE_BAND_DATA]
        packets += f"{len(piece) + 5:04x}".encode() + bytes([channel]) + piece
    return bytes(packets)


class HubReceivePack(ReceivePackHandler):
    """``git-receive-pack``: dulwich reads the commands and reports; the push service decides."""

    repo: RepoBackend

    def capabilities(self) -> list[bytes]:
        # no-thin: a pushed pack must carry its delta bases, so nothing in it is built from objects
        # of this repository (or of any other) that the push does not show.
        return [*super().capabilities(), b"no-thin"]

    def _apply_pack(self, refs: list[tuple[bytes, bytes, bytes]]) -> Iterator[tuple[bytes, bytes]]:
        updates = [
            RefUpdate(
                name=name.decode("utf-8", "replace"),
                old=None if old == ZERO_ID else old.decode(),
                new=None if new == ZERO_ID else new.decode(),
            )
            for old, new, name in refs
        ]
        stream = None
        if any(update.new is not None for update in updates):
            stream = PushStream(read=self.proto.read, read_some=getattr(self.proto, "recv", None))
        side_band = self.has_capability(CAPABILITY_SIDE_BAND_64K)

        def progress(message: str) -> None:
            if side_band:
                self.proto.write_sideband(SIDE_BAND_CHANNEL_PROGRESS, message.encode() + b"\n")

        try:
            outcome = push_receive(
                repo=self.repo.repo,
                user=self.repo.user,
                updates=updates,
                stream=stream,
                atomic=self.has_capability(b"atomic"),
                progress=progress,
            )
        except HubError as error:
            progress(f"error: {error.message}")
            yield b"unpack", _status_text(error.message)
            return
        yield b"unpack", b"ok"
        for result in outcome:
            yield result.name.encode(), b"ok" if result.error is None else _status_text(result.error)


def _status_text(message: str) -> bytes:
    """A report-status reason: one line (git shows it in parentheses after the ref)."""
    return message.replace("\n", " ").encode("utf-8", "replace")[:900]


def handler_for(
    service: str, backend: RepoBackend, *, read: Callable[[int], bytes], write: Callable[[bytes], Any], advertise: bool
):
    from dulwich.protocol import ReceivableProtocol

    proto = ReceivableProtocol(read, write)
    handler_class = HubUploadPack if service == "git-upload-pack" else HubReceivePack
    return handler_class(backend, ["/"], proto, stateless_rpc=True, advertise_refs=advertise)
