"""Xet hashes: chunk, internal node, xorb, file and term-verification hashes.

Every hash in this package is kept as its **raw 32 bytes** (``bytes``) and converted to text only
at the protocol edge (URLs, JSON, database keys) with :func:`hash_to_hex` / :func:`hash_from_hex`.

Protocol quirks this module encodes (checked against the real ``hf_xet`` client in the tests):

* The text form is not plain hex. The reference client stores a hash as four u64 words and prints
  each word as a little-endian integer, so each 8-byte group of the raw digest appears reversed.
* Internal Merkle nodes hash the *text form* of their children, one ``"{hex} : {size}\\n"`` line
  per child, so the word swap leaks into every xorb and file hash.
* The tree is not binary: groups of 2..9 children are cut where a child hash's last word is
  divisible by 4 (mean fanout 4), level by level until one node is left.
* The sha256 carried in a shard's ``FileMetadataExt`` uses the same word-swapped layout: the usual
  hexdigest is the text form of the 32 stored bytes.
"""

import struct
from collections.abc import Iterable, Sequence

from blake3 import blake3

from .errors import XetFormatError

HASH_SIZE = 32
ZERO_HASH = bytes(HASH_SIZE)

# Keys of the keyed blake3 hashes (Xet hashing specification).
DATA_KEY = bytes(
    [102, 151, 245, 119, 91, 149, 80, 222, 49, 53, 203, 172, 165, 151, 24, 28,
     157, 228, 33, 16, 155, 235, 43, 88, 180, 208, 176, 75, 147, 173, 242, 41]
)  # fmt: skip
INTERNAL_NODE_KEY = bytes(
    [1, 126, 197, 199, 165, 71, 41, 150, 253, 148, 102, 102, 180, 138, 2, 230,
     93, 221, 83, 111, 55, 199, 109, 210, 248, 99, 82, 230, 74, 83, 113, 63]
)  # fmt: skip
VERIFICATION_KEY = bytes(
    [127, 24, 87, 214, 206, 86, 237, 102, 18, 127, 249, 19, 231, 165, 195, 243,
     164, 205, 38, 213, 181, 219, 73, 230, 65, 36, 152, 127, 40, 251, 148, 195]
)  # fmt: skip
FILE_KEY = ZERO_HASH

# Tree shape: a group closes after a child whose last word is divisible by MEAN_FANOUT, but never
# before MIN_GROUP children nor after MAX_GROUP.
MEAN_FANOUT = 4
MIN_GROUP = 2
MAX_GROUP = 2 * MEAN_FANOUT + 1

_WORDS = struct.Struct("<4Q")
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


def hash_to_hex(raw: bytes) -> str:
    """The Xet text form of a raw 32-byte hash (each 8-byte word printed as a little-endian u64)."""
    a, b, c, d = _WORDS.unpack(raw)
    return f"{a:016x}{b:016x}{c:016x}{d:016x}"


def hash_from_hex(text: str) -> bytes:
    """Parse the Xet text form back into raw bytes; raise :class:`XetFormatError` if malformed."""
    if not is_hash_hex(text):
        raise XetFormatError(f"not a Xet hash (64 hex digits expected): {text[:80]!r}")
    return _WORDS.pack(int(text[0:16], 16), int(text[16:32], 16), int(text[32:48], 16), int(text[48:64], 16))


def is_hash_hex(text: str) -> bool:
    """True when ``text`` has the shape of a Xet hash string (64 hex digits, either case)."""
    return isinstance(text, str) and len(text) == 2 * HASH_SIZE and _HEX_DIGITS.issuperset(text)


def chunk_hash(data: bytes | bytearray | memoryview) -> bytes:
    """Hash of one chunk of file content (the Merkle leaf)."""
    return blake3(data, key=DATA_KEY).digest()


def internal_node_hash(children: Sequence[tuple[bytes, int]]) -> bytes:
    """Hash of an internal Merkle node over ``(hash, size)`` children, in order."""
    text = "".join(f"{hash_to_hex(h)} : {size}\n" for h, size in children)
    return blake3(text.encode("ascii"), key=INTERNAL_NODE_KEY).digest()


def _group_length(level: Sequence[tuple[bytes, int]], start: int) -> int:
    remaining = len(level) - start
    if remaining <= MIN_GROUP:
        return remaining
    end = min(MAX_GROUP, remaining)
    for i in range(MIN_GROUP, end):
        last_word = int.from_bytes(level[start + i][0][24:32], "little")
        if last_word % MEAN_FANOUT == 0:
            return i + 1
    return end


def merkle_root(entries: Sequence[tuple[bytes, int]]) -> bytes:
    """Root of the aggregated Merkle tree over ``(chunk_hash, size)`` leaves; zeros when empty.

    A single leaf is its own root (no hashing), as in the reference client.
    """
    level: list[tuple[bytes, int]] = list(entries)
    if not level:
        return ZERO_HASH
    while len(level) > 1:
        parents: list[tuple[bytes, int]] = []
        start = 0
        while start < len(level):
            stop = start + _group_length(level, start)
            group = level[start:stop]
            parents.append((internal_node_hash(group), sum(size for _, size in group)))
            start = stop
        level = parents
    return level[0][0]


def xorb_hash(chunks: Sequence[tuple[bytes, int]]) -> bytes:
    """Hash of a xorb: the Merkle root over its chunks' ``(hash, size)``."""
    return merkle_root(chunks)


def file_hash(chunks: Sequence[tuple[bytes, int]]) -> bytes:
    """Hash of a file from all its chunks' ``(hash, size)`` in file order; zeros for an empty file."""
    if not chunks:
        return ZERO_HASH
    return blake3(merkle_root(chunks), key=FILE_KEY).digest()


def term_verification_hash(chunk_hashes: Iterable[bytes]) -> bytes:
    """Verification hash of a shard term: keyed blake3 over the concatenated raw chunk hashes."""
    hasher = blake3(key=VERIFICATION_KEY)
    for h in chunk_hashes:
        hasher.update(h)
    return hasher.digest()


def sha256_hex_from_shard(raw: bytes) -> str:
    """The usual sha256 hexdigest from the 32 bytes stored in a shard's ``FileMetadataExt``."""
    return hash_to_hex(raw)


def sha256_hex_to_shard(hexdigest: str) -> bytes:
    """The 32 bytes a shard stores for a sha256 given as the usual hexdigest."""
    return hash_from_hex(hexdigest)
