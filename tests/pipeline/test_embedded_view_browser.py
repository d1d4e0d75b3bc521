"""The embedded view in a real browser: Debian's chromium driven by Playwright.

A provider's page, served from another origin (127.0.0.2), holds the snippet of
``embedded-view-html``; the iframe it mounts logs in with the client token, adds a destination,
shows the message the provider then sends (delivered by a real Celery worker to a loopback
receiver) in its logs, resends it, and each tab is photographed into the test's folder.

Playwright's sync API keeps an event loop running on this thread, where Django refuses ORM calls:
everything the browser part needs is prepared before it starts, and it talks HTTP only."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from providers.services import consumer_create
from tests.conftest import make_actor
from tests.factories import make_account
from tests.pipeline.conftest import wait_until
from tests.providers.conftest import make_application, make_version

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
TIMEOUT_MS = 60_000
TIMEOUT_S = 60.0
TABS = ("introduction", "dashboard", "destinations", "logs")


def chromium_or_skip() -> str:
    """Debian's chromium; without it the test fails in CI (``CI`` set) and is skipped locally."""
    if Path(CHROMIUM).exists():
        return CHROMIUM
    reason = f"Debian's chromium is not installed ({CHROMIUM}): apt-get install chromium (.ci/run does)"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture
def host_page() -> Iterator[dict]:
    """A provider's page on another origin (127.0.0.2): ``page["html"]`` is what it serves."""
    page = {"html": ""}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = f"<!doctype html><title>Provider</title><h1>Provider app</h1>{page['html']}".encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.2", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    page["url"] = f"http://127.0.0.2:{server.server_address[1]}/"
    yield page
    server.shutdown()
    server.server_close()


def test_a_consumer_manages_destinations_and_resends_from_the_embedded_view(
    live_server, worker, make_receiver, host_page, tmp_path
):
    chromium = chromium_or_skip()
    from playwright.sync_api import expect, sync_playwright

    provider = make_actor(make_account(name="Provider"))
    application = make_application(provider.account)
    make_version(application)
    consumer = consumer_create(application=application, consumer_id="acme-42", name="ACME Corp")
    receiver = make_receiver(path="/hooks")
    auth = {"Authorization": f"Bearer {provider.token}"}
    consumer_url = (
        f"{live_server.url}/v1/accounts/{provider.account.id}/applications/{application.id}"
        f"/consumers/{consumer.consumer_id}"
    )
    snippet = requests.post(
        f"{consumer_url}/embedded-view-html",
        json={"element_id": "hooks", "default_tab": "introduction", "api_url": live_server.url},
        headers=auth,
        timeout=TIMEOUT_S,
    )
    assert snippet.status_code == 201, snippet.text
    host_page["html"] = snippet.json()["html"]
    console: list[str] = []

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium, args=["--no-sandbox"] if os.geteuid() == 0 else []
        )
        page = browser.new_page(viewport={"width": 1100, "height": 900})
        page.on("console", lambda message: console.append(message.text))
        page.goto(host_page["url"])
        view = page.frame_locator("#hooks iframe")

        def open_tab(name: str) -> None:
            view.locator(f'[data-tab="{name}"]').click()
            expect(view.locator(f'[data-panel="{name}"]')).to_be_visible(timeout=TIMEOUT_MS)

        # Logged in with the client token: the context loaded, the introduction is the default tab.
        expect(view.locator("body[data-ready=true]")).to_have_count(1, timeout=TIMEOUT_MS)
        expect(view.locator("#title")).to_have_text("Webhooks for ACME Corp")
        expect(view.locator("#introduction")).to_contain_text("Destinations", timeout=TIMEOUT_MS)
        page.screenshot(path=tmp_path / "introduction.png", full_page=True)

        open_tab("destinations")
        expect(view.locator("#event-filters")).to_be_hidden()  # the application declares event types
        view.locator("[name=name]").fill("Billing hooks")
        view.locator("[name=endpoint_url]").fill(receiver.url)
        view.locator("#event-types label", has_text="invoice.paid").locator("input").check()
        view.locator("#save-destination").click()
        row = view.locator("#destinations tbody tr", has_text="Billing hooks")
        expect(row).to_contain_text("invoice.paid", timeout=TIMEOUT_MS)
        expect(view.locator("#secret code")).to_contain_text("whsec_")
        page.screenshot(path=tmp_path / "destinations.png", full_page=True)

        sent = requests.post(
            f"{consumer_url}/send/default",
            json={"invoice": {"id": 7, "total": 1200}},
            headers={**auth, "X-Webhooks-Event": "invoice.paid"},
            timeout=TIMEOUT_S,
        )
        assert sent.status_code == 200, sent.text
        wait_until(lambda: len(receiver.requests) == 1, timeout=TIMEOUT_S)

        open_tab("logs")
        delivered = view.locator("#log tbody tr", has_text="invoice.paid")
        expect(delivered).to_contain_text("succeeded", timeout=TIMEOUT_MS)
        delivered.click()
        expect(view.locator("#attempts tbody tr")).to_contain_text("200", timeout=TIMEOUT_MS)
        expect(view.locator("#detail-body")).to_contain_text('"total": 1200')
        view.locator("#resend").click()
        expect(view.locator("#resend-result")).to_contain_text("Resent as OM", timeout=TIMEOUT_MS)
        wait_until(lambda: len(receiver.requests) == 2, timeout=TIMEOUT_S)
        expect(view.locator("#log tbody tr", has_text="succeeded")).to_have_count(2, timeout=TIMEOUT_MS)
        page.screenshot(path=tmp_path / "logs.png", full_page=True)

        open_tab("dashboard")
        expect(view.locator("#totals-hours")).to_contain_text("2 delivered", timeout=TIMEOUT_MS)
        expect(view.locator("#chart-days rect.succeeded")).to_have_count(1)
        page.screenshot(path=tmp_path / "dashboard.png", full_page=True)

        open_tab("destinations")
        row.locator("button", has_text="Edit").click()
        view.locator("[name=name]").fill("Billing hooks v2")
        view.locator("#save-destination").click()
        renamed = view.locator("#destinations tbody tr", has_text="Billing hooks v2")
        expect(renamed).to_have_count(1, timeout=TIMEOUT_MS)
        renamed.locator("button", has_text="Delete").click()
        expect(view.locator("#no-destinations")).to_be_visible(timeout=TIMEOUT_MS)
        browser.close()

    assert [request.headers.get("X-Webhooks-Event") for request in receiver.requests] == ["invoice.paid"] * 2
    assert receiver.requests[0].body == receiver.requests[1].body
    assert "Bearer" not in str(receiver.requests[0].headers)  # the provider's token stays home
    for tab in TABS:
        assert (tmp_path / f"{tab}.png").stat().st_size > 1000, tab
    assert not [line for line in console if "error" in line.lower()], console
