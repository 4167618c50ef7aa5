"""A loopback Xet CAS built on ``registry.xet``, and helpers that drive the real ``hf_xet`` client at it.

``LoopbackCas`` is a stdlib HTTP server started in the test process. It answers the way our hub
will: token endpoint (JSON body + headers from ``XetTokenGrant``), ``POST /v1/xorbs`` (parse and
verify, 400 on error), ``POST /v1/shards`` (parse and verify against the stored xorbs),
``GET /v1/reconstructions`` (from the index) and range-signed xorb data URLs outside CAS auth.
The optional routes the client probes first answer 404 so it falls back, as it does against a
minimal hub. Every request body is kept, so tests can re-check the client's raw artefacts.

Each server mounts its CAS under a random path prefix: the client caches shards per endpoint
and would otherwise skip re-uploading bytes it sent to an earlier server on a reused port.
"""

import hashlib
import hmac
import io
import json
import os
import random
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import hf_xet
import numpy as np
import pytest

from registry.xet.errors import XetError, XetRangeNotSatisfiable
from registry.xet.hashing import hash_from_hex, hash_to_hex
from registry.xet.protocol import SHARD_RESULT_SYNCED, XetTokenGrant
from registry.xet.reconstruction import parse_range_header, reconstruction_response
from registry.xet.shard import ShardFile, parse_shard, verify_shard
from registry.xet.types import ChunkEntry
from registry.xet.xorb import parse_xorb

HUB_TOKEN = "hub-test-token"
TOKEN_PATH_PREFIX = "/api/models/alice/tiny/xet-"


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # without the CAS prefix
    status: int
    authorization: str | None
    range: str | None


@dataclass(frozen=True)
class Uploaded:
    """What the client reports for one uploaded item."""

    file_hash: str
    size: int
    sha256: str


class LoopbackCas:
    def __init__(self) -> None:
        self.cas_token = "cas-" + secrets.token_hex(8)
        self.prefix = "/cas-" + secrets.token_hex(6)
        self._signing_key = secrets.token_bytes(16)
        self._lock = threading.Lock()
        self.requests: list[Request] = []
        self.xorb_bodies: dict[str, bytes] = {}  # URL hash -> body as received
        self.shard_bodies: list[bytes] = []
        self.errors: list[str] = []
        self.tables: dict[bytes, tuple[ChunkEntry, ...]] = {}
        self.files: dict[bytes, ShardFile] = {}
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(self))
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> "LoopbackCas":
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    @property
    def cas_url(self) -> str:
        return self.origin + self.prefix

    def token_url(self, scope: str) -> str:
        return f"{self.origin}{TOKEN_PATH_PREFIX}{scope}-token/main"

    # -- index access for tests -----------------------------------------------------------------
    def lookup(self, xorb_hash: bytes) -> tuple[ChunkEntry, ...] | None:
        return self.tables.get(xorb_hash)

    def open_range(self, xorb_hash: bytes, start: int, end: int) -> io.BytesIO:
        return io.BytesIO(self.xorb_bodies[hash_to_hex(xorb_hash)][start:end])

    def paths(self, method: str | None = None) -> list[str]:
        return [r.path for r in self.requests if method is None or r.method == method]

    # -- signed data URLs -----------------------------------------------------------------------
    def _signature(self, xorb_hex: str, start: int, last: int) -> str:
        return hmac.new(self._signing_key, f"{xorb_hex}:{start}:{last}".encode(), hashlib.sha256).hexdigest()

    def fetch_url(self, xorb_hex: str, start: int, last: int) -> str:
        return f"{self.origin}/xorb-data/{xorb_hex}?r={start}-{last}&sig={self._signature(xorb_hex, start, last)}"

    # -- driving the real client ----------------------------------------------------------------
    def upload(self, items: list[bytes | Path], *, compression: str = "auto") -> list[Uploaded]:
        """Upload through ``hf_xet`` exactly as ``huggingface_hub._commit_api._upload_xet_files`` does."""
        config = hf_xet.XetConfig().with_config("xorb.compression_policy", compression)
        session = hf_xet.XetSession(config)
        handles = []
        with session.new_upload_commit(
            token_refresh_url=self.token_url("write"),
            token_refresh_headers={"authorization": f"Bearer {HUB_TOKEN}"},
            custom_headers={"user-agent": "registry-xet-tests"},
        ) as commit:
            for item in items:
                if isinstance(item, Path):
                    handles.append(commit.start_upload_file(str(item), sha256=hf_xet.COMPUTE_SHA256))
                else:
                    handles.append(commit.start_upload_bytes(item, sha256=hf_xet.COMPUTE_SHA256))
        infos = [h.result().xet_info for h in handles]
        return [Uploaded(i.hash, i.file_size, i.sha256) for i in infos]

    def _download_group(self, session: "hf_xet.XetSession", kind: str):
        from huggingface_hub.utils._xet import XetFileData, refresh_xet_connection_info

        # The read token comes from our token endpoint's headers, parsed by huggingface_hub itself.
        info = refresh_xet_connection_info(
            file_data=XetFileData(file_hash="0" * 64, refresh_route=self.token_url("read")),
            headers={"authorization": f"Bearer {HUB_TOKEN}"},
        )
        factory = session.new_file_download_group if kind == "file" else session.new_download_stream_group
        return factory(
            endpoint=info.endpoint,
            token=info.access_token,
            token_expiry_unix_secs=info.expiration_unix_epoch,
            token_refresh_url=self.token_url("read"),
            token_refresh_headers={"authorization": f"Bearer {HUB_TOKEN}"},
            custom_headers={"user-agent": "registry-xet-tests"},
        )

    def download(self, file_hash: str, size: int, dest: Path) -> None:
        """Download a file through ``hf_xet`` as ``huggingface_hub.file_download.xet_get`` does."""
        session = hf_xet.XetSession()
        with self._download_group(session, "file") as group:
            group.start_download_file(hf_xet.XetFileInfo(file_hash, size), str(dest))

    def download_range(self, file_hash: str, size: int, start: int | None, end: int | None) -> bytes:
        """Stream ``[start, end)`` of a file through the client's range download."""
        session = hf_xet.XetSession()
        group = self._download_group(session, "stream")
        try:
            return b"".join(group.download_stream(hf_xet.XetFileInfo(file_hash, size), start=start, end=end))
        finally:
            group.finish()


def _make_handler(cas: LoopbackCas) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def _body(self) -> bytes:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                parts = []
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                    if size == 0:
                        self.rfile.readline()
                        return b"".join(parts)
                    parts.append(self.rfile.read(size))
                    self.rfile.readline()
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def _reply(self, path: str, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
            with cas._lock:
                cas.requests.append(
                    Request(self.command, path, status, self.headers.get("Authorization"), self.headers.get("Range"))
                )
            self.send_response(status)
            for name, value in (headers or {"Content-Type": "application/json"}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _json(self, path: str, status: int, payload: object, headers: dict[str, str] | None = None) -> None:
            self._reply(
                path, status, json.dumps(payload).encode(), {"Content-Type": "application/json", **(headers or {})}
            )

        def _error(self, path: str, status: int, exc: Exception) -> None:
            with cas._lock:
                cas.errors.append(f"{self.command} {path}: {type(exc).__name__}: {exc}")
            self._json(path, status, {"error": str(exc)})

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            if url.path.startswith(TOKEN_PATH_PREFIX):
                return self._token(url.path)
            if url.path.startswith("/xorb-data/"):
                return self._xorb_data(url.path, parse_qs(url.query))
            path = url.path.removeprefix(cas.prefix)
            if not self._cas_authorised(path):
                return None
            if path.startswith("/v1/reconstructions/"):
                return self._reconstruction(path)
            return self._reply(path, 404)  # /v1/chunks (no global dedup), /v2/reconstructions

        def do_POST(self) -> None:
            path = urlsplit(self.path).path.removeprefix(cas.prefix)
            body = self._body()
            if not self._cas_authorised(path):
                return None
            if path.startswith("/v1/xorbs/default/"):
                return self._xorb(path, body)
            if path == "/v1/shards":
                return self._shard(path, body)
            if path == "/v1/telemetry":
                return self._json(path, 200, {})
            return self._reply(path, 404)  # /v1/xorb-grants, /v2/shards: client falls back

        def _cas_authorised(self, path: str) -> bool:
            if self.headers.get("Authorization") == f"Bearer {cas.cas_token}":
                return True
            self._reply(path, 401)
            return False

        def _token(self, path: str) -> None:
            if self.headers.get("Authorization") != f"Bearer {HUB_TOKEN}":
                return self._reply(path, 401)
            grant = XetTokenGrant(access_token=cas.cas_token, expires_at=int(time.time()) + 3600, cas_url=cas.cas_url)
            return self._json(path, 200, grant.body(), grant.headers())

        def _xorb(self, path: str, body: bytes) -> None:
            url_hash = path.rsplit("/", 1)[1]
            with cas._lock:
                cas.xorb_bodies[url_hash] = body
            try:
                info = parse_xorb(io.BytesIO(body), hash_from_hex(url_hash))
            except XetError as exc:
                return self._error(path, 400, exc)
            with cas._lock:
                inserted = info.hash not in cas.tables
                cas.tables[info.hash] = info.chunks
            return self._json(path, 200, {"was_inserted": inserted})

        def _shard(self, path: str, body: bytes) -> None:
            with cas._lock:
                cas.shard_bodies.append(body)
            try:
                shard = parse_shard(io.BytesIO(body))
                verify_shard(shard, cas.lookup)
            except XetError as exc:
                return self._error(path, 400, exc)
            with cas._lock:
                for f in shard.files:
                    cas.files[f.file_hash] = f
            return self._json(path, 200, {"result": SHARD_RESULT_SYNCED})

        def _reconstruction(self, path: str) -> None:
            file_hex = path.rsplit("/", 1)[1]
            shard_file = cas.files.get(hash_from_hex(file_hex))
            if shard_file is None:
                return self._reply(path, 404)
            try:
                answer = reconstruction_response(
                    shard_file.terms,
                    cas.lookup,
                    cas.fetch_url,
                    byte_range=parse_range_header(self.headers.get("Range")),
                )
            except XetRangeNotSatisfiable as exc:
                return self._error(path, 416, exc)
            except XetError as exc:
                return self._error(path, 400, exc)
            return self._json(path, 200, answer)

        def _xorb_data(self, path: str, query: dict[str, list[str]]) -> None:
            xorb_hex = path.rsplit("/", 1)[1]
            start, last = (int(v) for v in query["r"][0].split("-"))
            requested = parse_range_header(self.headers.get("Range"))
            body = cas.xorb_bodies.get(xorb_hex)
            if (
                not hmac.compare_digest(query["sig"][0], cas._signature(xorb_hex, start, last))
                or requested is None
                or requested[1] is None
                or not start <= requested[0] <= requested[1] <= last
                or body is None
            ):
                return self._reply(path, 403)
            data = body[requested[0] : requested[1] + 1]
            content_range = f"bytes {requested[0]}-{requested[1]}/{len(body)}"
            return self._reply(
                path, 206, data, {"Content-Type": "application/octet-stream", "Content-Range": content_range}
            )

    return Handler


@pytest.fixture(scope="session", autouse=True)
def _isolated_xet_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Keep the client's shard cache and logs out of the user's home for the whole session."""
    previous = os.environ.get("HF_XET_CACHE")
    os.environ["HF_XET_CACHE"] = str(tmp_path_factory.mktemp("hf-xet-cache"))
    yield
    if previous is None:
        os.environ.pop("HF_XET_CACHE", None)
    else:
        os.environ["HF_XET_CACHE"] = previous


@pytest.fixture
def cas() -> Iterator[LoopbackCas]:
    server = LoopbackCas().start()
    yield server
    server.stop()


@dataclass(frozen=True)
class CorpusItem:
    name: str
    payload: bytes
    compression: str  # the client's xorb.compression_policy for its commit
    path: Path  # the payload written to disk, for hf_xet.hash_files
    uploaded: Uploaded


@dataclass(frozen=True)
class ClientCorpus:
    """Files uploaded once per session by the real client, with everything it sent."""

    cas: LoopbackCas
    items: dict[str, CorpusItem]


def _float_tensor(seed: int, count: int) -> bytes:
    """float32 values of a smooth signal plus noise: compressible only after byte grouping."""
    rng = np.random.default_rng(seed)
    signal = np.sin(np.linspace(0, 40 * np.pi, count)) + rng.normal(0, 0.01, count)
    return signal.astype("<f4").tobytes()


def _text(seed: int, lines: int) -> bytes:
    rng = random.Random(seed)
    words = ["model", "weights", "tensor", "layer", "attention", "head", "token", "vocab"]
    return "".join(
        f"{i:07d} {' '.join(rng.choice(words) for _ in range(6))} {rng.random():.4f}\n" for i in range(lines)
    ).encode()


def _corpus_commits() -> list[tuple[str, list[tuple[str, bytes]]]]:
    """Commits in upload order: (compression policy, [(name, payload)]).

    The last commit reuses ranges of "random_9mb", so the client deduplicates against the xorb it
    uploaded in the first commit and the spliced file spans several xorbs.
    """
    rng = random.Random(20240611)
    random_9mb = rng.randbytes(9_000_000)
    spliced = random_9mb[:2_000_000] + rng.randbytes(1_000_000) + random_9mb[5_000_000:7_000_000]
    return [
        (
            "auto",
            [
                ("empty", b""),
                ("one_byte", b"x"),
                ("random_9mb", random_9mb),
                ("tensor_auto", _float_tensor(1, 600_000)),
            ],
        ),
        ("lz4", [("text_lz4", _text(2, 40_000))]),
        ("bg4-lz4", [("tensor_bg4", _float_tensor(3, 500_000))]),
        ("none", [("text_none", _text(4, 20_000))]),
        ("auto", [("spliced", spliced)]),
    ]


@pytest.fixture(scope="session")
def client_corpus(tmp_path_factory: pytest.TempPathFactory, _isolated_xet_cache: None) -> Iterator[ClientCorpus]:
    cas = LoopbackCas().start()
    folder = tmp_path_factory.mktemp("corpus")
    items: dict[str, CorpusItem] = {}
    for policy, batch in _corpus_commits():
        results = cas.upload([payload for _, payload in batch], compression=policy)
        for (name, payload), result in zip(batch, results, strict=True):
            path = folder / name
            path.write_bytes(payload)
            items[name] = CorpusItem(name, payload, policy, path, result)
    assert cas.errors == []
    yield ClientCorpus(cas, items)
    cas.stop()
