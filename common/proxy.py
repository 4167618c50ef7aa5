"""An ASGI application that passes HTTP requests on to another server, streaming both ways.

The web processes send ``/playground/`` here (``config/asgi.py``): the Gradio playgrounds run in a
process of their own, and a hub without a front proxy still serves them on its one origin. The
request goes on unchanged (method, raw path and query, headers with ``Host`` and the forwarding
headers kept) but for the hop-by-hop headers and those ``Connection`` names; the answer comes back
as it arrives (Gradio's event streams included), and a client that goes away closes the upstream
request, which stops the work behind it. An upstream that cannot be reached is a JSON 503.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable

import httpx

# RFC 9110 §7.6.1, plus what the server in front of us sets itself.
HOP_BY_HOP = frozenset(
    {
        b"connection", b"keep-alive", b"proxy-authenticate", b"proxy-authorization", b"proxy-connection", b"te",
        b"trailer", b"transfer-encoding", b"upgrade",
    }
)  # fmt: skip
SET_BY_SERVER = frozenset({b"date", b"server"})


class ProxyApp:
    """Forward every HTTP request to the server at ``upstream()`` (``http://host:port``, read per
    request); ``unavailable`` is the error message of the 503 when it does not answer."""

    def __init__(self, upstream: Callable[[], str], *, unavailable: str, code: str) -> None:
        self.upstream = upstream
        self.unavailable = unavailable
        self.code = code
        self._clients: dict[asyncio.AbstractEventLoop, httpx.AsyncClient] = {}

    def _client(self) -> httpx.AsyncClient:
        # One connection pool per event loop (a process normally has one; tests may run several).
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            # Idle connections close here after 30 s, before the playground server closes them (75 s).
            client = httpx.AsyncClient(
                timeout=httpx.Timeout(connect=10.0, read=None, write=None, pool=None),
                limits=httpx.Limits(max_connections=None, max_keepalive_connections=32, keepalive_expiry=30),
                follow_redirects=False,
                trust_env=False,
            )
            self._clients[loop] = client
        return client

    async def aclose(self) -> None:
        """Close the connection pool of the running event loop (at the server's shutdown)."""
        client = self._clients.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.aclose()

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            raise ValueError(f"ProxyApp serves HTTP only, not {scope['type']!r}")
        path = scope.get("raw_path") or scope["path"].encode()
        query = scope.get("query_string") or b""
        url = self.upstream().rstrip("/") + path.decode("latin-1") + ("?" + query.decode("latin-1") if query else "")
        # X-Forwarded-For goes on as it came: the server in front may already have replaced the
        # peer in ``scope["client"]`` with an address from it, so that is no hop of its own.
        named = {t.strip().lower() for k, v in scope.get("headers", []) if k == b"connection" for t in v.split(b",")}
        headers = [(k, v) for k, v in scope.get("headers", []) if k.lower() not in HOP_BY_HOP | named]

        first = await receive()
        body_more = first.get("more_body", False)
        content: bytes | AsyncIterator[bytes] | None
        if body_more:

            async def stream() -> AsyncIterator[bytes]:
                yield first.get("body", b"")
                while True:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        raise httpx.ReadError("the client went away during the request body")
                    yield message.get("body", b"")
                    if not message.get("more_body", False):
                        return

            content = stream()
        else:
            content = first.get("body", b"") or None

        client = self._client()
        request = client.build_request(scope["method"], url, headers=headers, content=content)
        try:
            response = await client.send(request, stream=True)
        except httpx.HTTPError as error:
            body = json.dumps({"error": f"{self.unavailable} ({type(error).__name__})", "code": self.code})
            await send({"type": "http.response.start", "status": 503,
                        "headers": [(b"content-type", b"application/json"), (b"retry-after", b"5")]})  # fmt: skip
            await send({"type": "http.response.body", "body": body.encode()})
            return
        try:
            await self._relay(response, receive, send)
        finally:
            await response.aclose()

    @staticmethod
    async def _relay(response: httpx.Response, receive, send) -> None:
        """Send the upstream answer on as it arrives; stop when the client disconnects."""
        headers = [
            (k, v) for k, v in response.headers.raw if k.lower() not in HOP_BY_HOP and k.lower() not in SET_BY_SERVER
        ]
        await send({"type": "http.response.start", "status": response.status_code, "headers": headers})

        async def pump() -> None:
            async for chunk in response.aiter_raw():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b""})

        async def disconnected() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass

        relay, watch = asyncio.ensure_future(pump()), asyncio.ensure_future(disconnected())
        try:
            await asyncio.wait({relay, watch}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (relay, watch):
                task.cancel()
            outcomes = await asyncio.gather(relay, watch, return_exceptions=True)
        failure = outcomes[0]
        if isinstance(failure, Exception):
            raise failure
