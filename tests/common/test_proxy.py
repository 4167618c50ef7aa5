"""``common.proxy.ProxyApp`` between a real client and a real upstream, both under uvicorn on
loopback ports: what the upstream receives (method, raw path and query, ``Host``, the body as it
streams, the forwarding headers as they came, no hop-by-hop headers), an answer that comes
back piece by piece as the upstream writes it, a client that goes away closing the upstream
request, and a 503 in the JSON error shape when nothing answers upstream."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import threading
import time
from collections.abc import Iterator

import httpx
import uvicorn

from common.proxy import ProxyApp
from tests.support.inference import free_port
from tests.support.processes import wait_until


class Upstream:
    """An ASGI app that echoes what it got (``/echo``) or streams ticks until its client leaves
    (``/ticks``), recording what happened."""

    def __init__(self) -> None:
        self.ticks_sent = 0
        self.ticks_ended = threading.Event()

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "lifespan":
            while (message := await receive())["type"] != "lifespan.shutdown":
                await send({"type": message["type"] + ".complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        if scope["path"] == "/healthz":
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"ok"})
            return
        if scope["path"].startswith("/echo"):
            digest, size = hashlib.sha256(), 0
            while True:
                message = await receive()
                digest.update(message.get("body", b""))
                size += len(message.get("body", b""))
                if not message.get("more_body"):
                    break
            reply = {
                "method": scope["method"], "raw_path": scope["raw_path"].decode(),
                "query": scope["query_string"].decode(),
                "headers": [[k.decode(), v.decode()] for k, v in scope["headers"]],
                "size": size, "sha256": digest.hexdigest(),
            }  # fmt: skip
            await send({"type": "http.response.start", "status": 207,
                        "headers": [(b"content-type", b"application/json"), (b"x-upstream", b"yes")]})  # fmt: skip
            await send({"type": "http.response.body", "body": json.dumps(reply).encode()})
            return
        # /ticks: an event stream that runs until the client goes away.
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/event-stream")]})
        try:
            while True:
                self.ticks_sent += 1
                await send({"type": "http.response.body", "body": f"data: {self.ticks_sent}\n\n".encode(),
                            "more_body": True})  # fmt: skip
                try:
                    message = await asyncio.wait_for(receive(), timeout=0.05)
                except TimeoutError:
                    continue
                if message["type"] == "http.disconnect":
                    return
        finally:
            self.ticks_ended.set()


@contextlib.contextmanager
def serving(app) -> Iterator[str]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(lambda: server.started, timeout=30, what="uvicorn")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)


def test_requests_and_answers_pass_through_unchanged_but_for_the_hop_by_hop_headers():
    upstream = Upstream()
    with serving(upstream) as upstream_url:
        proxy = ProxyApp(lambda: upstream_url, unavailable="Nothing there", code="gone")
        with serving(proxy) as url:
            body = bytes(range(256)) * 40_000  # 10 MB, sent in pieces
            pieces = (body[i : i + 65536] for i in range(0, len(body), 65536))
            headers = {
                "Host": "hub.example", "X-Forwarded-For": "203.0.113.9", "Cookie": "sessionid=abc",
                "Connection": "keep-alive, X-Private", "X-Private": "for the next hop only", "TE": "trailers",
            }  # fmt: skip
            response = httpx.post(f"{url}/echo/a%2Fb/c?x=1&y=%20", content=pieces, headers=headers, timeout=60)
    assert (response.status_code, response.headers["x-upstream"]) == (207, "yes")
    seen = response.json()
    headers = dict(seen["headers"])
    assert (seen["method"], seen["raw_path"], seen["query"]) == ("POST", "/echo/a%2Fb/c", "x=1&y=%20")
    assert (seen["size"], seen["sha256"]) == (len(body), hashlib.sha256(body).hexdigest())
    assert headers["host"] == "hub.example"
    assert headers["cookie"] == "sessionid=abc"
    assert headers["x-forwarded-for"] == "203.0.113.9"
    assert "te" not in headers
    assert "x-private" not in headers
    assert headers.get("connection", "keep-alive") == "keep-alive"  # httpx's own, not the client's


def test_an_event_stream_arrives_as_written_and_a_client_that_leaves_ends_it_upstream():
    upstream = Upstream()
    with serving(upstream) as upstream_url:
        proxy = ProxyApp(lambda: upstream_url, unavailable="Nothing there", code="gone")
        with serving(proxy) as url:
            with httpx.stream("GET", f"{url}/ticks", timeout=30) as response:
                assert response.status_code == 200
                events = []
                for line in response.iter_lines():
                    if line.startswith("data: "):
                        events.append(int(line.removeprefix("data: ")))
                    if len(events) == 3:
                        break
            assert events == [1, 2, 3]  # the first ticks came while the stream was still open
            started = time.monotonic()
            assert upstream.ticks_ended.wait(timeout=10), "the upstream stream went on after the client left"
            assert time.monotonic() - started < 10
            sent = upstream.ticks_sent
            time.sleep(0.5)
            assert upstream.ticks_sent == sent


def test_an_upstream_that_does_not_answer_is_a_json_503():
    nowhere = f"http://127.0.0.1:{free_port()}"
    proxy = ProxyApp(lambda: nowhere, unavailable="The playground process does not answer", code="gone")
    with serving(proxy) as url:
        response = httpx.get(f"{url}/playground/x/", timeout=30)
    assert response.status_code == 503
    assert response.json() == {"error": "The playground process does not answer (ConnectError)", "code": "gone"}
    assert response.headers["retry-after"] == "5"
