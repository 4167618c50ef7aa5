"""The engine's HTTP server: one thread per request, JSON in, JSON or NDJSON out.

Routes (all ``POST`` but the health check; every body names its model as ``"model": KEY``):

- ``/generate``: ``prompt`` or ``messages``, ``sampling`` (``params.Sampling``), ``stream``; a
  stream is NDJSON over chunked transfer, one event per line (``text.generate_events``);
- ``/fill-mask`` (``inputs``, ``top_k``), ``/classify`` and ``/embed`` (``inputs``: texts),
  ``/similarity`` (``source``, ``sentences``);
- ``GET /healthz``: the loaded models and the memory they use.

Errors answer ``{"error", "code"[, "fields"]}`` with the status of ``errors.EngineError``; an error
in a stream that has started arrives as a last ``{"type": "error", ...}`` line. A client that goes
away mid-stream stops its generation at the next token. Generation slots are limited
(``max_concurrent``); a request that waits longer than ``queue_timeout`` for one gets a 503.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import logging
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from . import text
from .cache import ModelCache
from .errors import EngineBusy, EngineError, InvalidRequest, RequestTooLarge
from .loaded import load_model_dir
from .params import GenerateParams, check_text, check_texts, check_top_k, sampling_from_dict

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024


class EngineServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self,
        address: tuple[str, int],
        *,
        resolve: Callable[[str], Path],
        capacity_bytes: int,
        token: str,
        max_concurrent: int = 2,
        queue_timeout: float = 30.0,
        device: str = "cpu",
    ) -> None:
        super().__init__(address, EngineHandler)
        self.token = token
        self.cache = ModelCache(
            lambda key: load_model_dir(resolve(key), key=key, device=device), capacity_bytes=capacity_bytes
        )
        self.slots = threading.BoundedSemaphore(max_concurrent)
        self.queue_timeout = queue_timeout

    def handle_error(self, request, client_address) -> None:
        """A client that hangs up is routine; anything else is logged with its traceback."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        logger.exception("engine connection from %s failed", client_address[0])


def _model(body: dict, server: EngineServer):
    key = body.get("model")
    if not isinstance(key, str) or not key:
        raise InvalidRequest("model must name a model", field="model")
    return server.cache.get(key)


def _generate_params(body: dict) -> GenerateParams:
    return GenerateParams(
        prompt=body.get("prompt"), messages=body.get("messages"), sampling=sampling_from_dict(body.get("sampling", {}))
    )


def _fill_mask(body: dict, server: EngineServer) -> dict:
    top_k = check_top_k(body.get("top_k", 5))
    return {"predictions": text.fill_mask(_model(body, server), check_text("inputs", body.get("inputs")), top_k=top_k)}


def _classify(body: dict, server: EngineServer) -> dict:
    return {"labels": text.classify(_model(body, server), check_texts("inputs", body.get("inputs")))}


def _embed(body: dict, server: EngineServer) -> dict:
    return {"embeddings": text.embed(_model(body, server), check_texts("inputs", body.get("inputs")))}


def _similarity(body: dict, server: EngineServer) -> dict:
    source, sentences = check_text("source", body.get("source")), check_texts("sentences", body.get("sentences"))
    return {"scores": text.similarity(_model(body, server), source, sentences)}


OPERATIONS: dict[str, Callable[[dict, EngineServer], dict]] = {
    "/fill-mask": _fill_mask,
    "/classify": _classify,
    "/embed": _embed,
    "/similarity": _similarity,
}


class EngineHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # A streamed answer is headers and then one small write per event: with Nagle's algorithm on,
    # each write after the first waits for the peer's delayed ACK (40-200 ms on Linux).
    disable_nagle_algorithm = True
    server: EngineServer

    def log_message(self, format: str, *args) -> None:
        logger.info("engine %s", format % args)

    def do_GET(self) -> None:
        if not self._authorized():
            return
        if self.path != "/healthz":
            return self._json(404, {"error": "no such route", "code": "not_found"})
        cache = self.server.cache
        self._json(200, {"status": "ok", "models": cache.keys(), "used_bytes": cache.used_bytes})

    def do_POST(self) -> None:
        if not self._authorized():
            return
        try:
            body = self._body()
            if self.path == "/generate":
                params = _generate_params(body)
                loaded = _model(body, self.server)
                with self._slot():
                    if body.get("stream"):
                        return self._stream(text.generate_events(loaded, params))
                    return self._json(200, text.generate_text(loaded, params))
            operation = OPERATIONS.get(self.path)
            if operation is None:
                return self._json(404, {"error": "no such route", "code": "not_found"})
            with self._slot():
                return self._json(200, operation(body, self.server))
        except EngineError as error:
            self._json(error.status, error.as_dict())
        except Exception:
            logger.exception("engine request %s failed", self.path)
            self._json(500, {"error": "the engine failed on this request", "code": "engine_error"})

    # -- helpers ------------------------------------------------------------------------------

    def _authorized(self) -> bool:
        given = self.headers.get("Authorization", "")
        if hmac.compare_digest(given.encode(), f"Bearer {self.server.token}".encode()):
            return True
        self._drain()
        self._json(401, {"error": "missing or wrong engine token", "code": "unauthenticated"})
        return False

    def _drain(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if 0 < length <= MAX_BODY_BYTES:
            self.rfile.read(length)
        elif length:
            self.close_connection = True

    def _body(self) -> dict:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length > MAX_BODY_BYTES:
            self.close_connection = True
            raise RequestTooLarge(f"the request body is over {MAX_BODY_BYTES} bytes")
        if length <= 0:
            raise InvalidRequest("send a JSON object body with its Content-Length")
        try:
            body = json.loads(self.rfile.read(length))
        except ValueError:
            raise InvalidRequest("the body is not valid JSON") from None
        if not isinstance(body, dict):
            raise InvalidRequest("the body must be a JSON object")
        return body

    @contextlib.contextmanager
    def _slot(self) -> Iterator[None]:
        server = self.server
        if not server.slots.acquire(timeout=server.queue_timeout):
            raise EngineBusy(f"every generation slot stayed busy for {server.queue_timeout:.0f} s; retry later")
        try:
            yield
        finally:
            server.slots.release()

    def _json(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _stream(self, events: Iterator[dict]) -> None:
        """Send events as NDJSON chunks; errors after the first byte become an error line."""
        try:
            first = next(events)
        except EngineError as error:
            return self._json(error.status, error.as_dict())
        self.send_response(200)
        self.send_header("Content-Type", "application/x-ndjson")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        try:
            self._chunk(first)
            try:
                for event in events:
                    self._chunk(event)
            except ConnectionError:
                raise
            except EngineError as error:
                self._chunk({"type": "error", **error.as_dict()})
            except Exception:
                logger.exception("engine stream %s failed", self.path)
                self._chunk({"type": "error", "error": "the engine failed during generation", "code": "engine_error"})
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except ConnectionError:
            self.close_connection = True  # the client left: closing the generator stops generation
        finally:
            events.close()

    def _chunk(self, event: dict) -> None:
        data = json.dumps(event).encode() + b"\n"
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def serve(*, host: str, port: int, **options) -> None:
    """Run the engine until interrupted (Ctrl-C or SIGTERM: a clean exit); ``options`` are
    ``EngineServer``'s keyword arguments."""
    server = EngineServer((host, port), **options)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _interrupt)
    try:
        logger.info("inference engine listening on http://%s:%d", host, server.server_address[1])
        server.serve_forever(poll_interval=0.5)
    except KeyboardInterrupt:
        logger.info("inference engine stopping")
    finally:
        server.server_close()
