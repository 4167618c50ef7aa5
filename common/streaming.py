"""Streaming responses that stay streaming under both WSGI and ASGI.

Django's ``StreamingHttpResponse`` buffers a synchronous iterator entirely in memory when served
over ASGI (and an asynchronous one when served over WSGI). Blob downloads are gigabytes, so this
response reads its source in bounded chunks on either server: directly under WSGI, in a worker
thread per chunk under ASGI.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import BinaryIO

from asgiref.sync import sync_to_async
from django.http import StreamingHttpResponse

CHUNK_SIZE = 1024 * 1024


class RangeFileResponse(StreamingHttpResponse):
    """Stream ``length`` bytes from offset ``start`` of the file ``opener()`` returns."""

    def __init__(
        self, opener: Callable[[], BinaryIO], *, start: int, length: int, chunk_size: int = CHUNK_SIZE, **kwargs
    ):
        self._opener = opener
        self._start = start
        self._length = length
        self._chunk_size = chunk_size
        super().__init__(streaming_content=self._sync_chunks(), **kwargs)

    def _sync_chunks(self):
        if self._length <= 0:
            return
        with self._opener() as handle:
            handle.seek(self._start)
            remaining = self._length
            while remaining > 0:
                chunk = handle.read(min(self._chunk_size, remaining))
                if not chunk:
                    break
                remaining -= len(chunk)
                yield chunk

    async def __aiter__(self):
        if self._length <= 0:
            return
        handle = await sync_to_async(self._opener, thread_sensitive=False)()
        try:
            await sync_to_async(handle.seek, thread_sensitive=False)(self._start)
            remaining = self._length
            read = sync_to_async(handle.read, thread_sensitive=False)
            while remaining > 0:
                chunk = await read(min(self._chunk_size, remaining))
                if not chunk:
                    break
                remaining -= len(chunk)
                yield chunk
        finally:
            await sync_to_async(handle.close, thread_sensitive=False)()


class IteratorResponse(StreamingHttpResponse):
    """Stream what a synchronous iterator produces, one item at a time under WSGI and ASGI alike.

    Under ASGI each item is produced in the request's own worker thread (``thread_sensitive``), so
    an iterator that reads the database uses the request's connection, and nothing is gathered in
    memory first.
    """

    def __init__(self, iterator: Iterator[bytes], **kwargs):
        self._iterator = iterator
        super().__init__(streaming_content=iterator, **kwargs)

    async def __aiter__(self):
        step = sync_to_async(_next_or_none, thread_sensitive=True)
        while (chunk := await step(self._iterator)) is not None:
            yield chunk


def _next_or_none(iterator: Iterator[bytes]) -> bytes | None:
    return next(iterator, None)
