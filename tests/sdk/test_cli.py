"""The ``hookrelay`` command (the installed console script, in a subprocess) against the live
server: login, buckets, inputs, destinations, send, resend, tail and ``listen``, whose local
receiver gets real deliveries from a Celery worker."""

from __future__ import annotations

import json
import socket
import subprocess
import time

from hookrelay import Client

from tests.sdk.conftest import CLI, cli_env, live, wait_for

pytestmark = live


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def as_owner(api_url: str, owner) -> list[str]:
    return ["--api-url", api_url, "--token", owner.token, "--account", owner.account.id]


def test_login_then_the_everyday_commands(run_cli, api_url, owner, tmp_path):
    login = run_cli(
        "--api-url",
        api_url,
        "login",
        "--email",
        owner.user.email_address,
        "--password",
        "correct-horse-battery",
    )
    assert login.returncode == 0, login.stderr
    saved = json.loads((tmp_path / "hookrelay.json").read_text())
    assert saved["token"].startswith("wha_")
    assert (saved["api_url"], saved["account_id"]) == (api_url, owner.account.id)

    def ok(*args: str):
        done = run_cli(*args)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    bucket = ok("buckets", "create", "Orders", "--key", "orders")
    assert [b["key"] for b in ok("buckets", "list")] == ["orders"]
    source = ok("inputs", "create", "--bucket", bucket["id"], "shop")
    assert [i["id"] for i in ok("inputs", "list", "--bucket", bucket["id"])] == [source["id"]]
    destination = ok("destinations", "create", "--input", source["id"], "CRM", "https://crm.example.com/hook")
    assert destination["secret"].startswith("whsec_")
    assert [d["id"] for d in ok("destinations", "list", "--input", source["id"])] == [destination["id"]]
    sent = ok("send", source["id"], "--data", '{"hello": "world"}', "--header", "X-Event: greeting")
    assert sent["id"].startswith("IM")

    malformed = run_cli("send", source["id"], "--header", "no colon")
    assert malformed.returncode == 2
    assert "not 'Name: value'" in malformed.stderr

    refused = run_cli("buckets", "create", "")
    assert refused.returncode == 1
    assert "validation_error" in refused.stderr
    assert "name:" in refused.stderr


def test_a_wrong_password_fails_in_one_line(run_cli, api_url, owner, tmp_path):
    done = run_cli("--api-url", api_url, "login", "--email", owner.user.email_address, "--password", "nope")

    assert done.returncode == 1
    assert "authentication_failed" in done.stderr
    assert not (tmp_path / "hookrelay.json").exists()


def start_listen(tmp_path, *args: str) -> tuple[subprocess.Popen, callable]:
    """Start ``hookrelay listen``; returns the process and a reader of its output so far, once
    it has registered its URL."""
    output = tmp_path / "listen.out"
    with output.open("wb") as sink:
        process = subprocess.Popen(
            [str(CLI), *args], env=cli_env(tmp_path), stdout=sink, stderr=subprocess.STDOUT
        )

    def read() -> str:
        return output.read_text(errors="replace")

    wait_for(
        lambda: "Listening on" in read() or process.poll() is not None, "listen's registration", timeout=30
    )
    assert process.poll() is None, read()
    return process, read


def test_listen_prints_the_deliveries_of_an_input_and_removes_its_destination(
    worker, sdk: Client, api_url, owner, tmp_path
):
    account = owner.account.id
    bucket = sdk.create_bucket(account, name="Dev")
    source = sdk.create_input(account, bucket_id=bucket["id"], name="dev")
    url = f"http://127.0.0.1:{free_port()}/hook"
    process, read = start_listen(
        tmp_path,
        *as_owner(api_url, owner),
        "listen",
        url,
        "--input",
        source["id"],
        "--count",
        "2",
        "--timeout",
        "120",
    )
    try:
        sdk.send_message(source["id"], '{"n": 1}')
        sdk.send_message(source["id"], '{"n": 2}')
        assert process.wait(timeout=90) == 0, read()
    finally:
        process.kill()
        process.wait()

    printed = read()
    assert '{"n": 1}' in printed
    assert '{"n": 2}' in printed
    assert printed.count("--> POST /hook  signature valid") == 2
    assert "webhook-signature:" in printed
    assert "Received 2 request(s)." in printed
    assert list(sdk.paginate(sdk.get_destinations, account, source["id"])) == []  # the temporary one is gone


def test_resend_delivers_a_copy(worker, run_cli, sdk: Client, api_url, owner, receiver):
    account = owner.account.id
    bucket = sdk.create_bucket(account, name="Dev")
    source = sdk.create_input(account, bucket_id=bucket["id"], name="dev")
    sdk.create_destination(account, source["id"], name="R", endpoint_url=receiver.url)
    incoming_id = sdk.send_message(source["id"], '{"n": 3}')["id"]
    wait_for(lambda: receiver.requests, "the delivery")
    outgoing_id = sdk.get_incoming_message(account, incoming_id, include_outgoing_messages=True)[
        "outgoing_messages"
    ][0]["id"]

    done = run_cli(*as_owner(api_url, owner), "resend", outgoing_id)

    assert done.returncode == 0, done.stderr
    copy_id = done.stdout.strip()
    assert copy_id.startswith("OM")
    assert copy_id != outgoing_id
    wait_for(lambda: len(receiver.requests) == 2, "the copy's delivery")
    assert receiver.requests[1].headers["X-Webhooks-Message-Id"] == copy_id
    assert receiver.requests[1].body == b'{"n": 3}'


def test_listen_gives_up_after_its_timeout_and_still_cleans_up(sdk: Client, api_url, owner, tmp_path):
    account = owner.account.id
    bucket = sdk.create_bucket(account, name="Dev")
    source = sdk.create_input(account, bucket_id=bucket["id"], name="dev")
    url = f"http://127.0.0.1:{free_port()}/hook"
    started = time.monotonic()

    done = subprocess.run(
        [str(CLI), *as_owner(api_url, owner), "listen", url, "--input", source["id"], "--count", "1", "--timeout", "1"],
        env=cli_env(tmp_path), capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip

    assert done.returncode == 1, done.stdout + done.stderr
    assert "Received 0 request(s)." in done.stdout
    assert time.monotonic() - started >= 1
    assert list(sdk.paginate(sdk.get_destinations, account, source["id"])) == []


def test_listen_without_an_input_uses_a_temporary_webhook(worker, sdk: Client, api_url, owner, tmp_path):
    account = owner.account.id
    bucket = sdk.create_bucket(account, name="Dev")
    source = sdk.create_input(account, bucket_id=bucket["id"], name="dev")
    url = f"http://127.0.0.1:{free_port()}/hook"
    process, read = start_listen(
        tmp_path, *as_owner(api_url, owner), "listen", url, "--count", "1", "--timeout", "120"
    )
    try:
        sdk.send_message(source["id"], '{"n": 2}')
        assert process.wait(timeout=90) == 0, read()
    finally:
        process.kill()
        process.wait()

    assert '{"n": 2}' in read()
    assert "signature valid" in read()
    assert list(sdk.webhooks.list()) == []


def test_tail_prints_the_request_log(worker, run_cli, sdk: Client, api_url, owner, receiver):
    account = owner.account.id
    bucket = sdk.create_bucket(account, name="Dev")
    source = sdk.create_input(account, bucket_id=bucket["id"], name="dev")
    sdk.create_destination(account, source["id"], name="R", endpoint_url=receiver.url)
    sdk.send_message(source["id"], '{"n": 3}')
    wait_for(lambda: receiver.requests, "the delivery")

    done = wait_for(
        lambda: (
            (d := run_cli(*as_owner(api_url, owner), "tail", "--input", source["id"])).stdout.strip() and d
        ),
        "the log line",
    )

    assert done.returncode == 0, done.stderr
    assert len(done.stdout.strip().splitlines()) == 1
