"""Streaming responses that stay streaming under both WSGI and ASGI.

Django's ``StreamingHttpResponse`` buffers a synchronous iterator entirely in memory when served
over ASGI (and an asynchronous one when served over WSGI). Blob downloads are gigabytes, so this
response reads its source in bounded chunks on either server: directly under WSGI, in a worker
thread per chunk under ASGI.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import BinaryIO

from asgiref.sync import sync_to_async
from django.http import StreamingHttpResponse

CHUNK_SIZE = 1024 * 1024


class RangeFileResponse(StreamingHttpResponse):
    """Stream ``length`` bytes from offset ``start`` of the file ``opener()`` returns (not seeked
    when ``start`` is 0: an opener may return a stream that already begins at the range)."""

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
            if self._start:
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
            if self._start:
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


class IteratorStreamingResponse(StreamingHttpResponse):
    """Stream a synchronous iterator item by item under WSGI and under ASGI.

    Under ASGI each item is produced in the request's own worker thread (``thread_sensitive``:
    database work inside the iterator uses the request's connection), and the iterator is closed
    when the client goes away, so the work behind it (a generation) stops with it.
    """

    def __init__(self, iterator, **kwargs):
        self._source = iterator
        super().__init__(streaming_content=iterator, **kwargs)

    async def __aiter__(self):
        source = iter(self._source)
        step = sync_to_async(next, thread_sensitive=True)
        done = object()
        try:
            while (item := await step(source, done)) is not done:
                yield self.make_bytes(item)
        finally:
            close = getattr(source, "close", None)
            if close is not None:
                await sync_to_async(close, thread_sensitive=True)()
