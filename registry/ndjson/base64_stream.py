"""Strict streaming base64 for ``value.content``: decoded piece by piece into the line's sink."""

from __future__ import annotations

import binascii
from collections.abc import Callable
from typing import NoReturn

from registry.ndjson.records import ContentSink

_PAD = ord("=")


class _Base64Decoder:
    """Strict streaming base64: decodes whole quartets, carries at most three characters."""

    __slots__ = ("_carry", "_fail", "_padded", "_sink", "size")

    def __init__(self, sink: ContentSink, fail: Callable[[str], NoReturn]) -> None:
        self._sink = sink
        self._fail = fail
        self._carry = b""
        self._padded = False
        self.size = 0

    def feed(self, data: bytes | memoryview) -> None:
        if self._carry:
            need = 4 - len(self._carry)
            self._carry += bytes(data[:need])
            data = data[need:]
            if len(self._carry) < 4:
                return
            quartet, self._carry = self._carry, b""
            self._emit(quartet)
        whole = len(data) & ~3
        if whole:
            self._emit(data[:whole])
        if whole < len(data):
            self._carry = bytes(data[whole:])

    def close(self) -> None:
        if self._carry:
            self._fail("is not valid base64: its length is not a multiple of 4")

    def _emit(self, quartets: bytes | memoryview) -> None:
        # One message for every alphabet and padding fault: binascii words the same fault
        # differently depending on where the chunk boundaries fell.
        if self._padded:
            self._fail("is not valid base64")
        try:
            decoded = binascii.a2b_base64(quartets, strict_mode=True)
        except binascii.Error:
            self._fail("is not valid base64")
        self._padded = quartets[-1] == _PAD
        self.size += len(decoded)
        if decoded:
            self._sink.write(decoded)
