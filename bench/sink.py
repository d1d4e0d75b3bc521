"""The loopback sink: a minimal asyncio HTTP/1.1 server (keep-alive) that records every receipt.

``python -m bench.sink PORT`` serves on 127.0.0.1:PORT:

- ``/hang/...`` answers after HANG_SECONDS (a destination that hangs);
- any other path answers ``200 ok`` at once;
- ``GET /_stats`` answers the number of receipts so far per first path segment (not recorded);
- ``GET /_dump?path=FILE`` writes the receipts recorded so far to FILE as JSON lines
  ``[path, message id, unix time of receipt]`` and forgets them.

The message id is the delivery's ``X-Webhooks-Message-Id`` header (the outgoing message id), so
the bench can check from the database that every message arrived exactly once per destination.
It parses only what it needs, so on one core it answers far faster than the platform delivers."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from urllib.parse import parse_qs, urlsplit

HANG_SECONDS = 30.0
MESSAGE_ID_HEADER = b"x-webhooks-message-id"
OK = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok"

receipts: list[tuple[str, str, float]] = []
counts: dict[str, int] = {}


def _json_response(document: dict) -> bytes:
    body = json.dumps(document).encode()
    head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    return head.encode() + body


def _control(target: str) -> bytes:
    url = urlsplit(target)
    if url.path == "/_dump":
        path = parse_qs(url.query)["path"][0]
        taken = receipts[:]
        del receipts[: len(taken)]
        with open(path, "w") as out:
            out.writelines(json.dumps(receipt) + "\n" for receipt in taken)
        return _json_response({"dumped": len(taken)})
    return _json_response(counts)


class Sink(asyncio.Protocol):
    def connection_made(self, transport: asyncio.Transport) -> None:
        self.transport = transport
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end].split(b"\r\n")
            length, message_id = 0, ""
            for line in head[1:]:
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == MESSAGE_ID_HEADER:
                    message_id = value.strip().decode()
            if len(self.buffer) < end + 4 + length:
                return
            self.buffer = self.buffer[end + 4 + length :]
            target = head[0].split(b" ")[1].decode()
            self._answer(target, message_id)

    def _answer(self, target: str, message_id: str) -> None:
        if target.startswith("/_"):
            self.transport.write(_control(target))
            return
        receipts.append((target, message_id, time.time()))
        segment = target.split("/", 2)[1]
        counts[segment] = counts.get(segment, 0) + 1
        if target.startswith("/hang/"):
            asyncio.get_running_loop().call_later(HANG_SECONDS, self._late_ok)
        else:
            self.transport.write(OK)

    def _late_ok(self) -> None:
        if not self.transport.is_closing():
            self.transport.write(OK)


async def serve(port: int) -> None:
    server = await asyncio.get_running_loop().create_server(Sink, "127.0.0.1", port, backlog=1024)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(serve(int(sys.argv[1])))
