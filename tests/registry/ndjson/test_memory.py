"""The NDJSON decoder on a large inlined file: bounded memory, and speed printed next to baselines."""

import base64
import binascii
import hashlib
import io
import json
import random
import time
import tracemalloc
from collections.abc import Iterator

import pytest

from registry.ndjson import HeaderLine, iter_commit_lines
from tests.registry.ndjson.decoding import HEADER

# -- memory and speed ----------------------------------------------------------------------------


class InlinedFileBody(io.RawIOBase):
    """A commit body with one ``size``-byte file inlined, produced on the fly (never held whole)."""

    def __init__(self, size: int, seed: int) -> None:
        self.sha256 = hashlib.sha256()
        self._pieces = self._generate(size, random.Random(seed))
        self._piece = b""

    def _generate(self, size: int, rng: random.Random) -> Iterator[bytes]:
        yield HEADER + b'{"key":"file","value":{"content":"'
        left = size
        while left:
            raw = rng.randbytes(min(left, 3 * 256 * 1024))
            self.sha256.update(raw)
            left -= len(raw)
            yield base64.b64encode(raw)
        yield b'","path":"big.bin","encoding":"base64"}}\n'

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        while not self._piece:
            self._piece = next(self._pieces, None)
            if self._piece is None:
                self._piece = b""
                return b""
        data, self._piece = self._piece[:size], self._piece[size:]
        return data


class HashingSink:
    def __init__(self, hint: str | None) -> None:
        self.sha256 = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> None:
        self.sha256.update(data)
        self.size += len(data)

    def finish(self) -> "HashingSink":
        return self

    def abort(self) -> None:
        raise AssertionError("nothing went wrong")


@pytest.mark.slow
def test_256_mib_inlined_file_decodes_in_bounded_memory():
    size = 256 << 20
    body = InlinedFileBody(size, seed=1)
    tracemalloc.start()
    try:
        records = list(iter_commit_lines(body, content_sink_factory=HashingSink))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 16 << 20, f"peak {peak / 2**20:.1f} MiB"
    header, big = records
    assert header == HeaderLine("s", "", None)
    assert (big.path, big.size, big.content_handle.size) == ("big.bin", size, size)
    assert big.content_handle.sha256.digest() == body.sha256.digest()
    print(f"\n256 MiB inlined file: tracemalloc peak {peak / 2**20:.2f} MiB")


@pytest.mark.slow
def test_decode_throughput_against_whole_body_baselines():
    """Prints the decoder's speed next to decoding the same line whole (no timing assertion)."""
    raw = random.Random(3).randbytes(48 << 20)
    content = base64.b64encode(raw)
    line = b'{"key":"file","value":{"content":"' + content + b'","path":"p","encoding":"base64"}}\n'
    body = HEADER + line

    def best(run) -> float:
        times = []
        for _ in range(3):
            start = time.perf_counter()
            run()
            times.append(time.perf_counter() - start)
        return min(times)

    class CountingSink(HashingSink):
        def write(self, data: bytes) -> None:
            self.size += len(data)

    def streaming(sink_factory) -> list:
        return list(iter_commit_lines(io.BytesIO(body), content_sink_factory=sink_factory))

    streamed = best(lambda: streaming(CountingSink))
    floor = best(lambda: binascii.a2b_base64(content, strict_mode=True))
    whole = best(lambda: base64.b64decode(json.loads(line)["value"]["content"], validate=True))
    [_, decoded] = streaming(HashingSink)
    assert decoded.content_handle.sha256.digest() == hashlib.sha256(raw).digest()
    mb = len(content) / 1e6
    print(
        f"\nbase64 content {mb:.0f} MB: streaming decoder {mb / streamed:.0f} MB/s, "
        f"a2b_base64 alone {mb / floor:.0f} MB/s, json.loads + b64decode of the whole line {mb / whole:.0f} MB/s"
    )
