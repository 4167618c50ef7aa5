"""A TCP relay on a loopback port in front of a server, counting the bytes that cross it each way.

Put in front of the hub's process, it measures what the hub sends and receives on the wire (a
process's own I/O counters leave out socket sends and receives)."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator


class CountingRelay:
    def __init__(self, target_port: int) -> None:
        self._target = ("127.0.0.1", target_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._lock = threading.Lock()
        self.to_server = 0  # bytes the clients sent
        self.from_server = 0  # bytes the server sent
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return  # closed
            try:
                server = socket.create_connection(self._target)
            except OSError:
                client.close()
                continue
            done = threading.Barrier(2, action=lambda client=client, server=server: (client.close(), server.close()))
            for source, target, counter in ((client, server, "to_server"), (server, client, "from_server")):
                threading.Thread(target=self._pipe, args=(source, target, counter, done), daemon=True).start()

    def _pipe(self, source: socket.socket, target: socket.socket, counter: str, done: threading.Barrier) -> None:
        try:
            while data := source.recv(256 * 1024):
                target.sendall(data)
                with self._lock:
                    setattr(self, counter, getattr(self, counter) + len(data))
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                target.shutdown(socket.SHUT_WR)
            done.wait()  # the last of the two directions closes both sockets

    def close(self) -> None:
        self._listener.close()


@contextlib.contextmanager
def counting_relay(target_port: int) -> Iterator[CountingRelay]:
    relay = CountingRelay(target_port)
    try:
        yield relay
    finally:
        relay.close()
