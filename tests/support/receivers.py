"""Real HTTP(S) receivers on loopback, shared by every suite that needs one."""

from __future__ import annotations

import contextlib
import random
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import trustme


@dataclass
class ReceivedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    client_port: int
    arrived: float  # time.time()

    @property
    def message_id(self) -> str:
        return self.headers.get("X-Webhooks-Message-Id", "")


@dataclass
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b"ok"
    delay: float = 0.0  # seconds before answering (a hang when longer than the read timeout)


# Decides the reply to each request, given its index in arrival order (called concurrently).
Responder = Callable[[int, ReceivedRequest], Reply]


def always(reply: Reply) -> Responder:
    return lambda index, request: reply


def fail_times(times: int, failure: Reply | None = None) -> Responder:
    """Fail the first ``times`` requests of each message, then answer 200."""
    failure = failure or Reply(status=500)
    seen: dict[str, int] = {}
    lock = threading.Lock()

    def respond(index: int, request: ReceivedRequest) -> Reply:
        with lock:
            seen[request.message_id] = seen.get(request.message_id, 0) + 1
            count = seen[request.message_id]
        return failure if count <= times else Reply()

    return respond


def random_failures(probability: float, seed: int = 7, delay: float = 0.0) -> Responder:
    rng = random.Random(seed)
    lock = threading.Lock()

    def respond(index: int, request: ReceivedRequest) -> Reply:
        with lock:
            failed = rng.random() < probability
        return Reply(status=503 if failed else 200, delay=delay)

    return respond


class Receiver:
    """A threaded HTTP/1.1 server (keep-alive, any method) recording every request with its
    arrival time and answering what ``responder`` decides per request, or ``reply`` (a 200 "ok"
    unless set) to every request. Tracks the most requests in flight at once. ``path`` is the
    path of ``url``."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        tls: ssl.SSLContext | None = None,
        *,
        responder: Responder | None = None,
        path: str = "/",
    ) -> None:
        self.host = host
        self.path = path
        self.requests: list[ReceivedRequest] = []
        if responder is None:
            self.reply = Reply()
        else:
            self._reply = None
            self.responder = responder
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._closing = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True
            timeout = 30

            def setup(self) -> None:
                super().setup()
                with receiver._lock:
                    receiver._connections.add(self.connection)

            def finish(self) -> None:
                with receiver._lock:
                    receiver._connections.discard(self.connection)
                super().finish()

            def handle_one_request(self) -> None:
                try:
                    self.raw_requestline = self.rfile.readline(65537)
                    if not self.raw_requestline or not self.parse_request():
                        self.close_connection = True
                        return
                    body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                except OSError:
                    self.close_connection = True
                    return
                reply = receiver._record(
                    ReceivedRequest(
                        method=self.command,
                        path=self.path,
                        headers=dict(self.headers.items()),
                        body=body,
                        client_port=self.client_address[1],
                        arrived=time.time(),
                    )
                )
                try:
                    if reply.delay:
                        receiver._closing.wait(reply.delay)
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(reply.body)
                    self.wfile.flush()
                except OSError:
                    self.close_connection = True  # the client gave up (timeout)
                finally:
                    with receiver._lock:
                        receiver.in_flight -= 1

            def log_message(self, format: str, *args: object) -> None:
                pass

        class Server(ThreadingHTTPServer):
            address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
            daemon_threads = True
            request_queue_size = 256

        self.server = Server((host, 0), Handler)
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.scheme = "https" if tls is not None else "http"
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    @property
    def reply(self) -> Reply | None:
        """The reply every request gets (None when a responder given at creation decides)."""
        return self._reply

    @reply.setter
    def reply(self, reply: Reply) -> None:
        self._reply = reply
        self.responder = always(reply)

    def _record(self, request: ReceivedRequest) -> Reply:
        with self._lock:
            index = len(self.requests)
            self.requests.append(request)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        return self.responder(index, request)

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}{self.path}"

    def message_ids(self) -> list[str]:
        with self._lock:
            return [request.message_id for request in self.requests]

    def close(self) -> None:
        """Stop listening and cut the open connections (no stale keep-alive outlives the test)."""
        self._closing.set()
        self.server.shutdown()
        self.server.server_close()
        with self._lock:
            for connection in self._connections:
                with contextlib.suppress(OSError):  # already closed by the client
                    connection.shutdown(socket.SHUT_RDWR)


def server_context(ca: trustme.CA, *identities: str) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*identities).configure_cert(context)
    return context
