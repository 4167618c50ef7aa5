"""Streaming decoder for the NDJSON body of ``POST /api/{type}s/{repo}/commit/{rev}``.

The body is one JSON object per line (HF_PROTOCOL.md §2.6 step 4): a header, then one line per
operation. A ``file`` line carries the whole file inline as a base64 string, so one line can be
several gigabytes long. This package therefore never holds the body, a line or that string in
memory: it reads the stream in chunks, parses JSON incrementally, and base64-decodes
``value.content`` on the fly into a sink the caller supplies (typically a staged temporary file).
Every other string, the non-content bytes of a line and the nesting depth are bounded, so memory
stays at a few MiB whatever the body size.

The decoder only checks the shape of each line (which fields, which JSON types). What the values
mean — whether a path is acceptable, whether an oid is a sha256 — is for the registry to decide.

Strictness beyond plain JSON, on purpose:

- a document must sit on one line: a raw newline inside it is an error, and only spaces, tabs and
  carriage returns may follow it on its line; blank lines between documents are allowed;
- duplicate member names in the line object and in ``value`` are an error (two parsers must never
  disagree about which ``path`` a line names);
- ``\\u`` escapes must form valid UTF-16 (no lone surrogates) and raw bytes must be valid UTF-8;
- base64 is decoded in strict mode: padding is required and any character outside the alphabet,
  including whitespace, is an error.

Members the protocol does not define are parsed (and bounded) but ignored, so a newer client that
adds a field keeps working. ``content`` is the exception: it is only valid on a ``file`` line.

The modules: ``records`` holds the public types (the lines, the sink protocol, the error);
``decoder`` the commit-line parser behind ``iter_commit_lines``, built on the streaming JSON of
``json_parser`` (byte window, lexical tables, values) and the base64 decoder of ``base64_stream``.
"""

from registry.ndjson.decoder import iter_commit_lines
from registry.ndjson.records import (
    CommitLine,
    CommitPayloadError,
    ContentSink,
    ContentSinkFactory,
    DeletedFileLine,
    DeletedFolderLine,
    FileLine,
    HeaderLine,
    LfsFileLine,
)

__all__ = [
    "CommitLine",
    "CommitPayloadError",
    "ContentSink",
    "ContentSinkFactory",
    "DeletedFileLine",
    "DeletedFolderLine",
    "FileLine",
    "HeaderLine",
    "LfsFileLine",
    "iter_commit_lines",
]
