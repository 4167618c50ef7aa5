"""Django's ASGI handler, with request bodies that reach upload views as a stream.

Django's ``ASGIHandler`` reads a whole request body into a temporary file before the view runs,
so a 1 GiB LFS upload was written to disk twice (there, then into staging) and the view could not
start hashing before the last byte arrived. Views marked with :func:`streams_request_body` get
the body as it arrives instead: ``request.read(n)`` pulls the next ASGI ``http.request`` messages
from the server (which stops reading the socket while nobody asks, so memory stays at one chunk);
:func:`read_chunk` gives the view each message's body as the server handed it over, uncopied.
Every other view is served exactly as Django serves it, and so is every view when
``HUB_STREAMED_UPLOADS`` is off.

A task on the event loop moves the body's messages into a queue the view's thread reads, at most
``BodyStream.AHEAD`` messages ahead of it. Django's disconnect listener waits until the body is
over, then listens as usual. A client that goes away mid-body makes ``read`` raise ``UnreadablePostError``
(an ``OSError``), which the upload services answer by discarding what they staged.
"""

from __future__ import annotations

import asyncio
import queue
from collections.abc import Callable

from django.conf import settings
from django.core.handlers.asgi import ASGIHandler
from django.http import UnreadablePostError
from django.urls import Resolver404, resolve

from common.prefix import path_prefix

STREAMED_BODY_METHODS = frozenset({"PUT", "POST"})


def streams_request_body(view: Callable) -> Callable:
    """Mark ``view`` as one that reads its request body as a stream (``request.read``), never
    through ``request.body`` or ``request.POST``."""
    view.streams_request_body = True
    return view


def _view_streams_body(scope: dict) -> bool:
    path = scope.get("path", "")
    prefix = path_prefix() or scope.get("root_path", "")
    if prefix and path.startswith(prefix + "/"):
        path = path[len(prefix) :]
    try:
        match = resolve(path)
    except Resolver404:
        return False
    return getattr(match.func, "streams_request_body", False)


class BodyStream:
    """The request body as a file the view reads, fed from the ASGI ``receive`` channel by a task
    on the event loop through a queue of at most ``AHEAD`` messages. Called, it is the ``receive``
    Django's disconnect listener gets: the next message once the body is over."""

    AHEAD = 8
    _END = object()
    _ABORTED = object()

    def __init__(self, receive: Callable) -> None:
        self._receive = receive
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._buffer = bytearray()
        self._state: object | None = None
        self._finished = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._room: asyncio.Semaphore | None = None
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        """Start reading the body (on the event loop, before the view runs)."""
        self._loop = asyncio.get_running_loop()
        self._room = asyncio.Semaphore(self.AHEAD)
        self._task = self._loop.create_task(self._pump())

    async def _pump(self) -> None:
        try:
            while True:
                await self._room.acquire()
                message = await self._receive()
                if message["type"] == "http.disconnect":
                    self._queue.put(self._ABORTED)
                    break
                self._queue.put(message.get("body", b""))
                if not message.get("more_body", False):
                    self._queue.put(self._END)
                    break
        except asyncio.CancelledError:
            self._queue.put(self._ABORTED)
            raise
        finally:
            self._finished.set()

    async def __call__(self) -> dict:
        await self._finished.wait()
        return await self._receive()

    def _next(self) -> bytes | None:
        """The next message's body, or None once the body is over or the client went away."""
        item = self._queue.get()
        if item is self._END or item is self._ABORTED:
            self._state = item
            return None
        self._loop.call_soon_threadsafe(self._room.release)
        return item

    def _take(self) -> None:
        item = self._next()
        if item is not None:
            self._buffer += item

    def read(self, size: int = -1, /) -> bytes:
        while (size is None or size < 0 or len(self._buffer) < size) and self._state is None:
            self._take()
        if self._state is self._ABORTED:
            raise UnreadablePostError("The client went away before sending the whole body.")
        if size is None or size < 0 or size >= len(self._buffer):
            data = bytes(self._buffer)
            self._buffer.clear()
        else:
            with memoryview(self._buffer) as view:
                data = bytes(view[:size])
            del self._buffer[:size]
        return data

    def read_chunk(self, size: int, /) -> bytes:
        """At most ``size`` bytes: what is buffered, else the next message's body as the server
        handed it over (no copy when it fits); ``b""`` at the end of the body."""
        if not self._buffer and self._state is None:
            item = self._next()
            if item is not None:
                if len(item) <= size:
                    return item
                self._buffer += item
        if self._state is self._ABORTED:
            raise UnreadablePostError("The client went away before sending the whole body.")
        if not self._buffer:
            return b""
        return self.read(min(size, len(self._buffer)))

    def readline(self, size: int = -1, /) -> bytes:
        raise UnreadablePostError("A streamed request body is read in blocks, not lines.")

    def close(self) -> None:
        self._buffer.clear()
        if self._task is not None and not self._task.done():
            self._loop.call_soon_threadsafe(self._task.cancel)


def read_chunk(stream, size: int) -> bytes:
    """At most ``size`` bytes of ``stream`` (a request or a file), ``b""`` at its end. A streamed
    body gives its next message as the server handed it over, which may be fewer bytes, uncopied."""
    body = getattr(stream, "_stream", None)
    if isinstance(body, BodyStream):
        return body.read_chunk(size)
    return stream.read(size)


class HubASGIHandler(ASGIHandler):
    """Django's handler, with streamed upload bodies and a bound on the requests that run Django's
    middleware and views at once (``HUB_WEB_CONCURRENCY``).

    Django gives every request a thread of its own for its synchronous middleware and view; a
    hundred requests at once are a hundred threads taking turns on the GIL with the event loop,
    which needs it for every hop between the view's thread and the loop. Throughput then falls
    below one client's, and a request waits seconds. With the bound, the requests past it wait on
    the event loop, first come first served, before Django runs them; what they send back
    (downloads, streamed generations) is sent outside the bound, and so are upload views reading
    their bodies, which wait on the client rather than on the processor.
    """

    _gate: asyncio.Semaphore | None = None
    _gate_loop: asyncio.AbstractEventLoop | None = None

    async def __call__(self, scope, receive, send):
        if (
            scope["type"] == "http"
            and scope.get("method") in STREAMED_BODY_METHODS
            and settings.HUB_STREAMED_UPLOADS
            and _view_streams_body(scope)
        ):
            receive = BodyStream(receive)
        await super().__call__(scope, receive, send)

    def _bound(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if self._gate is None or self._gate_loop is not loop:
            self._gate = asyncio.Semaphore(settings.HUB_WEB_CONCURRENCY)
            self._gate_loop = loop
        return self._gate

    async def run_get_response(self, request):
        if isinstance(request._stream, BodyStream) or not settings.HUB_WEB_CONCURRENCY:
            return await super().run_get_response(request)
        async with self._bound():
            return await super().run_get_response(request)

    async def read_body(self, receive):
        if isinstance(receive, BodyStream):
            receive.start()
            return receive
        return await super().read_body(receive)


def get_hub_asgi_application() -> HubASGIHandler:
    """Django's ``get_asgi_application`` with the streamed bodies above."""
    import django

    django.setup(set_prefix=False)
    return HubASGIHandler()
