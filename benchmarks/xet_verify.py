"""Throughput of Xet xorb verification and server-side reconstruction vs plain sha256, same bytes, same run.

    .venv/bin/python benchmarks/xet_verify.py [--size-mb 256] [--data mixed|random|tensor|text] [--repeat 3]

Builds a file of the chosen kind, cuts it into chunks of 8-128 KiB (mean ~64 KiB, like the client's
content-defined chunking), encodes each chunk in the scheme the client picks for such data
(random: none, float32 weights: BG4-LZ4, text: LZ4) and packs them into 64 MiB xorbs. Then it times:

* verify: ``parse_xorb`` of every xorb (decode, chunk hashes, Merkle root, hash check), what the
  server does per ``POST /v1/xorbs``;
* reconstruct: ``reconstruct_file`` of the whole file from the stored xorbs (decode + sha256),
  what the server does to materialise a file or check its declared sha256;
* baseline: ``hashlib.sha256`` over the same raw bytes.

MB/s are of raw file bytes (10^6 bytes), best of ``--repeat`` runs.
"""

import argparse
import hashlib
import io
import random
import time
from collections.abc import Callable

import numpy as np

from registry.xet.hashing import chunk_hash, xorb_hash
from registry.xet.reconstruction import reconstruct_file
from registry.xet.types import FileTerm
from registry.xet.xorb import MAX_XORB_UNPACKED_BYTES, CompressionScheme, encode_chunk_record, parse_xorb

SCHEME_BY_KIND = {"random": CompressionScheme.NONE, "tensor": CompressionScheme.BG4_LZ4, "text": CompressionScheme.LZ4}


def make_data(kind: str, size: int, seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    if kind == "random":
        return rng.bytes(size)
    if kind == "tensor":
        # Freshly initialised float32 weights: only the exponent bytes compress (after byte grouping).
        return rng.normal(0, 0.02, size // 4).astype("<f4").tobytes()
    words = np.array([b"model ", b"weights ", b"tensor ", b"layer ", b"attention ", b"token ", b"vocab\n"])
    text = b"".join(words[rng.integers(0, len(words), size // 5)])
    return text[:size]


def build(kind: str, size: int, seed: int) -> tuple[bytes, dict[bytes, bytes], list[FileTerm]]:
    """The file, its stored xorbs by hash, and its terms (one per xorb)."""
    kinds = ["random", "tensor", "text"] if kind == "mixed" else [kind]
    part = size // len(kinds)
    content = b"".join(make_data(k, part, seed + i) for i, k in enumerate(kinds))
    rng = random.Random(seed)
    xorbs: dict[bytes, bytes] = {}
    terms: list[FileTerm] = []
    records: list[bytes] = []
    leaves: list[tuple[bytes, int]] = []

    def flush() -> None:
        digest = xorb_hash(leaves)
        xorbs[digest] = b"".join(records)
        terms.append(FileTerm(digest, 0, len(leaves), sum(n for _, n in leaves)))
        records.clear()
        leaves.clear()

    position = 0
    while position < len(content):
        length = min(rng.randint(8 * 1024, 120 * 1024), len(content) - position)
        chunk = content[position : position + length]
        if sum(n for _, n in leaves) + length > MAX_XORB_UNPACKED_BYTES:
            flush()
        kind_here = kinds[min(position // part, len(kinds) - 1)]
        records.append(encode_chunk_record(chunk, SCHEME_BY_KIND[kind_here]))
        leaves.append((chunk_hash(chunk), length))
        position += length
    flush()
    return content, xorbs, terms


def best_seconds(action: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=256)
    parser.add_argument("--data", choices=["mixed", *SCHEME_BY_KIND], default="mixed")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    content, xorbs, terms = build(args.data, args.size_mb * 1_000_000, args.seed)
    stored = sum(len(body) for body in xorbs.values())
    tables = {}

    def verify() -> None:
        for digest, body in xorbs.items():
            tables[digest] = parse_xorb(io.BytesIO(body), digest).chunks

    def reconstruct() -> None:
        result = reconstruct_file(
            terms, tables.get, lambda h, start, end: io.BytesIO(xorbs[h][start:end]), expected_sha256=expected
        )
        assert result.size == len(content)

    expected = hashlib.sha256(content).hexdigest()
    baseline = best_seconds(lambda: hashlib.sha256(content).hexdigest(), args.repeat)
    verify_s = best_seconds(verify, args.repeat)
    reconstruct_s = best_seconds(reconstruct, args.repeat)

    mb = len(content) / 1e6
    print(f"data: {args.data}, {mb:.0f} MB raw in {len(xorbs)} xorbs, {stored / 1e6:.0f} MB stored")
    print(f"{'step':<34}{'MB/s':>10}{'vs sha256':>12}")
    for name, seconds in [
        ("sha256 (baseline)", baseline),
        ("xorb verification", verify_s),
        ("reconstruction + sha256", reconstruct_s),
    ]:
        print(f"{name:<34}{mb / seconds:>10.0f}{baseline / seconds:>12.2f}")


if __name__ == "__main__":
    main()
