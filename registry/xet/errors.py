"""Typed errors raised by the Xet protocol core.

Every error carries a message meant for the client (it names the hash, chunk index or byte offset
that failed), so a view can answer ``400 {"error": str(exc)}`` without rewording. The mapping to
HTTP status codes the Django side is expected to use is noted on each class.
"""


class XetError(Exception):
    """Base class of every error raised by ``registry.xet``."""


class XetFormatError(XetError):
    """The bytes are not a well-formed xorb or shard (truncated, garbage, unknown version). HTTP 400."""


class XetSizeLimitError(XetFormatError):
    """A body or a chunk exceeds a protocol limit (64 MiB xorb, 128 KiB chunk). HTTP 400 (or 413)."""


class XetHashMismatch(XetError):
    """Content does not hash to the hash it was uploaded under. HTTP 400."""

    def __init__(self, message: str, *, expected: str, actual: str) -> None:
        super().__init__(message)
        self.expected = expected
        self.actual = actual


class XetShardError(XetError):
    """A well-formed shard describes files that the stored xorbs do not back. HTTP 400."""


class XetMissingXorb(XetShardError):
    """A shard term names a xorb the server does not hold."""

    def __init__(self, message: str, *, xorb_hash: str) -> None:
        super().__init__(message)
        self.xorb_hash = xorb_hash


class XetChunkRangeError(XetShardError):
    """A term's chunk range is empty, reversed, or runs past the end of its xorb."""


class XetUnpackedSizeMismatch(XetShardError):
    """A term's ``unpacked_bytes`` differs from the sum of its chunks' sizes."""


class XetVerificationHashMismatch(XetShardError):
    """A term's verification hash differs from the hash over the stored chunk hashes."""


class XetFileHashMismatch(XetShardError):
    """A file's hash differs from the Merkle root over the chunks its terms name."""


class XetSha256Mismatch(XetError):
    """The reconstructed file content does not hash to the sha256 the shard declared."""

    def __init__(self, message: str, *, expected: str, actual: str) -> None:
        super().__init__(message)
        self.expected = expected
        self.actual = actual


class XetRangeNotSatisfiable(XetError):
    """A requested byte range starts at or beyond the end of the file. HTTP 416."""

    def __init__(self, message: str, *, file_size: int) -> None:
        super().__init__(message)
        self.file_size = file_size
