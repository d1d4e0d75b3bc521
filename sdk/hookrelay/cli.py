"""``hookrelay``: the everyday tasks from a terminal. ``hookrelay --help`` lists the commands.

Credentials come from ``hookrelay login`` (saved to ``$HOOKRELAY_CONFIG``, by default
``~/.config/hookrelay/config.json``), overridden by ``--api-url``/``--token``/``--account`` or
``HOOKRELAY_API_URL``/``HOOKRELAY_TOKEN``/``HOOKRELAY_ACCOUNT``."""

from __future__ import annotations

import argparse
import contextlib
import functools
import getpass
import json
import os
import queue
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from hookrelay.client import DEFAULT_BASE_URL, Client
from hookrelay.signatures import verify_signature
from hookrelay.transport import HookRelayError


def config_path() -> Path:
    return Path(os.environ.get("HOOKRELAY_CONFIG") or Path.home() / ".config" / "hookrelay" / "config.json")


def load_config() -> dict[str, str]:
    path = config_path()
    return json.loads(path.read_text()) if path.exists() else {}


def save_config(config: dict[str, str]) -> None:
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)  # it holds an API token
    path.write_text(json.dumps(config, indent=2) + "\n")


def show(value: Any) -> None:
    print(json.dumps(value, indent=2, sort_keys=True), flush=True)


class Session:
    """The client and account of one command, from the flags, the environment, then the config."""

    def __init__(self, args: argparse.Namespace) -> None:
        config = load_config()
        self.api_url = (
            args.api_url or os.environ.get("HOOKRELAY_API_URL") or config.get("api_url") or DEFAULT_BASE_URL
        )
        token = args.token or os.environ.get("HOOKRELAY_TOKEN") or config.get("token")
        self.account_id = args.account or os.environ.get("HOOKRELAY_ACCOUNT") or config.get("account_id")
        self.client = Client(self.api_url, token)

    def account(self) -> str:
        if not self.account_id:
            raise SystemExit("No account: run `hookrelay login` or pass --account.")
        return self.account_id


# --- commands -------------------------------------------------------------------------------


def login(session: Session, args: argparse.Namespace) -> None:
    """Authenticate, then trade the session token for a long-lived API token and save it."""
    password = args.password or getpass.getpass("Password: ")
    answer = session.client.login(email_address=args.email, password=password)
    session.client.token = answer["session_token"]
    account_id, user_id = answer["account"]["id"], answer["user"]["id"]
    token = session.client.get_api_token(account_id, user_id)["api_token"]
    save_config({"api_url": session.api_url, "token": token, "account_id": account_id, "user_id": user_id})
    print(f"Logged in as {args.email} (account {account_id}); credentials saved to {config_path()}")


def buckets(session: Session, args: argparse.Namespace) -> None:
    client, account = session.client, session.account()
    if args.action == "create":
        show(client.create_bucket(account, name=args.name, key=args.key))
    else:
        show(list(client.paginate(client.get_buckets, account)))


def inputs(session: Session, args: argparse.Namespace) -> None:
    client, account = session.client, session.account()
    if args.action == "create":
        show(client.create_input(account, bucket_id=args.bucket, name=args.name))
    else:
        show(list(client.paginate(client.get_inputs, account, args.bucket)))


def destinations(session: Session, args: argparse.Namespace) -> None:
    client, account = session.client, session.account()
    if args.action == "create":
        show(client.create_destination(account, args.input, name=args.name, endpoint_url=args.url))
    else:
        show(list(client.paginate(client.get_destinations, account, args.input)))


def tail(session: Session, args: argparse.Namespace) -> None:
    """Print the request log, oldest first, one JSON line per message; with --follow, poll for
    new ones until interrupted."""
    client, account = session.client, session.account()
    filters = {"input_id": args.input, "bucket_id": args.bucket, "http_status": args.http_status}
    seen: set[str] = set()
    while True:
        page = client.get_request_log(account, **filters)
        entries = page.get("results", []) if isinstance(page, dict) else page
        for entry in reversed(entries):  # the log is newest first
            key = entry.get("id") or json.dumps(entry, sort_keys=True)
            if key not in seen:
                seen.add(key)
                print(json.dumps(entry, sort_keys=True), flush=True)
        if not args.follow:
            return
        time.sleep(args.interval)


def resend(session: Session, args: argparse.Namespace) -> None:
    answer = session.client.resend(session.account(), outgoing_message_ids=args.outgoing_message_ids)
    for message in answer["outgoing_messages"]:
        print(message["id"])


def header(value: str) -> tuple[str, str]:
    """A ``Name: value`` argument."""
    name, colon, content = value.partition(":")
    if not colon or not name.strip():
        raise argparse.ArgumentTypeError(f"not 'Name: value': {value!r}")
    return name.strip(), content.strip()


def send(session: Session, args: argparse.Namespace) -> None:
    """Send a test message to an input through its gateway URL."""
    body = (
        args.data if args.data is not None else json.dumps({"type": "hookrelay.test", "sent_at": time.time()})
    )
    show(session.client.send_message(args.input, body, headers=dict(args.header)))


class _Arrivals(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int]) -> None:
        self.arrived: queue.Queue[tuple[str, str, dict[str, str], bytes]] = queue.Queue()
        arrivals = self

        class Handler(BaseHTTPRequestHandler):
            def _receive(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                arrivals.arrived.put((self.command, self.path, dict(self.headers.items()), body))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _receive

            def log_message(self, format: str, *args: Any) -> None:
                pass

        super().__init__(address, Handler)


@contextlib.contextmanager
def temporary_endpoint(session: Session, url: str, input_id: str | None) -> Iterator[str]:
    """Register ``url`` (a destination of ``input_id``, else a simple webhook receiving every
    event of the account) for as long as the block runs; yields its signing secret."""
    client = session.client
    if input_id:
        account = session.account()
        name = f"hookrelay listen {time.strftime('%H:%M:%S')}"
        created = client.create_destination(account, input_id, name=name, endpoint_url=url)
        what = f"input {input_id} (temporary destination {created['id']})"
        remove = functools.partial(client.delete_destination, account, created["id"])
    else:
        created = client.webhooks.create(url)
        what = f"every event (temporary webhook {created['id']})"
        remove = functools.partial(client.webhooks.remove, created["id"])
    print(f"Listening on {url} for {what}; Ctrl-C stops.", flush=True)
    try:
        yield created["secret"]
    finally:
        remove()


def listen(session: Session, args: argparse.Namespace) -> int:
    """A local development receiver: serve ``URL`` (or ``--bind``), register it, print every
    request that arrives with its signature check, and remove the registration on exit."""
    parts = urlsplit(args.url)
    default_port = parts.port or (443 if parts.scheme == "https" else 80)
    host, _, port = (args.bind or f"{parts.hostname}:{default_port}").rpartition(":")
    server = _Arrivals((host, int(port)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    received = 0
    deadline = time.monotonic() + args.timeout if args.timeout else None
    try:
        with temporary_endpoint(session, args.url, args.input) as secret:
            while args.count is None or received < args.count:
                wait = None if deadline is None else deadline - time.monotonic()
                if wait is not None and wait <= 0:
                    break
                try:
                    method, path, headers, body = server.arrived.get(timeout=wait)
                except queue.Empty:
                    break
                received += 1
                valid = verify_signature(secret, headers, body, url=args.url)
                print(f"--> {method} {path}  signature {'valid' if valid else 'INVALID'}", flush=True)
                for name, value in headers.items():
                    if name.lower().startswith(("x-", "webhook-", "content-type")):
                        print(f"    {name}: {value}")
                print(body.decode(errors="replace"), flush=True)
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
        server.server_close()
    print(f"Received {received} request(s).", flush=True)
    return 1 if args.count is not None and received < args.count else 0


# --- the parser -----------------------------------------------------------------------------


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="hookrelay", description="HookRelay from the command line.")
    root.add_argument("--api-url", help=f"the API root (default {DEFAULT_BASE_URL})")
    root.add_argument("--token", help="an API token (default: the one `login` saved)")
    root.add_argument("--account", help="the account id (default: the one `login` saved)")
    commands = root.add_subparsers(dest="command", required=True)

    command = commands.add_parser("login", help="log in and save an API token")
    command.add_argument("--email", required=True)
    command.add_argument("--password", help="(prompted for when absent)")
    command.set_defaults(run=login)

    for name, run, parent, create_args in (
        ("buckets", buckets, None, [("name",), ("--key",)]),
        ("inputs", inputs, "--bucket", [("name",)]),
        ("destinations", destinations, "--input", [("name",), ("url",)]),
    ):
        command = commands.add_parser(name, help=f"list or create {name}")
        actions = command.add_subparsers(dest="action", required=True)
        listing = actions.add_parser("list")
        creating = actions.add_parser("create")
        for sub in (listing, creating):
            if parent:
                sub.add_argument(parent, required=True)
        for spec in create_args:
            creating.add_argument(*spec)
        command.set_defaults(run=run)

    command = commands.add_parser("tail", help="print the request log")
    command.add_argument("--follow", "-f", action="store_true", help="keep printing new messages")
    command.add_argument("--interval", type=float, default=2.0, help="seconds between polls with --follow")
    command.add_argument("--input")
    command.add_argument("--bucket")
    command.add_argument("--http-status")
    command.set_defaults(run=tail)

    command = commands.add_parser("resend", help="resend outgoing messages")
    command.add_argument("outgoing_message_ids", nargs="+", metavar="OUTGOING_MESSAGE_ID")
    command.set_defaults(run=resend)

    command = commands.add_parser("send", help="send a test message to an input")
    command.add_argument("input", metavar="INPUT_ID")
    command.add_argument("--data", help="the JSON body (default: a small test payload)")
    command.add_argument(
        "--header", type=header, action="append", default=[], help="Name: value (repeatable)"
    )
    command.set_defaults(run=send)

    command = commands.add_parser("listen", help="a local receiver: register URL and print what arrives")
    command.add_argument("url", metavar="URL", help="the URL HookRelay delivers to, served here")
    command.add_argument(
        "--input", help="deliver this input's messages (default: every event, via /v1/webhooks)"
    )
    command.add_argument("--bind", help="HOST:PORT to listen on (default: URL's host and port)")
    command.add_argument("--count", type=int, help="stop after this many requests")
    command.add_argument("--timeout", type=float, help="stop after this many seconds")
    command.set_defaults(run=listen)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.run(Session(args), args) or 0
    except HookRelayError as exc:
        print(f"hookrelay: {exc}", file=sys.stderr)
        for name, problems in exc.fields.items():
            print(f"  {name}: {problems}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
