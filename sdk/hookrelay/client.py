"""The client: one method per method of the webhooks.io Node.js client (``hookrelay.methods``),
the simple webhooks API (``client.webhooks``), sending to an input, and pagination."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from hookrelay.methods import METHODS, make_method
from hookrelay.transport import Transport, path

DEFAULT_BASE_URL = "http://127.0.0.1:8000/v1"


class Webhooks:
    """The simple webhooks API: a URL that receives every event the account accepts, signed."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    def create(self, url: str, *, events: list[str] | None = None) -> Any:
        """Register ``url``; the answer holds the webhook's ``id`` and signing ``secret``."""
        return self._transport.request("POST", "/webhooks", json={"url": url, "events": events})

    def list(self) -> Iterator[Any]:
        """Every registered webhook, across pages."""
        return self._transport.paginate(self._transport.request, "GET", "/webhooks")

    def get(self, webhook_id: str) -> Any:
        return self._transport.request("GET", path("webhooks", webhook_id))

    def update(self, webhook_id: str, *, url: str, events: list[str] | None = None) -> Any:
        return self._transport.request(
            "PUT", path("webhooks", webhook_id), json={"url": url, "events": events}
        )

    def remove(self, webhook_id: str) -> None:
        self._transport.request("DELETE", path("webhooks", webhook_id))

    def test(self, webhook_id: str) -> Any:
        """Send a dummy payload to the webhook now; the answer is the attempt."""
        return self._transport.request("POST", path("webhooks", "test", webhook_id))


class Client:
    """A HookRelay API client.

    ``base_url`` is the API root (``https://hooks.example.com/v1``); ``token`` an API token
    (``wha_...``) or session token. Keyword arguments tune the transport: ``timeout``,
    ``max_retries``, ``backoff``, ``max_backoff``. Every call returns the decoded JSON answer
    and raises ``HookRelayError`` on failure."""

    def __init__(self, base_url: str = DEFAULT_BASE_URL, token: str | None = None, **transport: Any) -> None:
        self._transport = Transport(base_url, token, **transport)
        self.webhooks = Webhooks(self._transport)

    @property
    def token(self) -> str | None:
        return self._transport.token

    @token.setter
    def token(self, token: str | None) -> None:
        self._transport.token = token

    def close(self) -> None:
        """Close the pooled connections (also on leaving a ``with Client(...) as client:`` block)."""
        self._transport.session.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def paginate(self, method: Any, *args: Any, **kwargs: Any) -> Iterator[Any]:
        """Every item of a list method, page after page: ``client.paginate(client.get_buckets, account_id)``."""
        return self._transport.paginate(method, *args, **kwargs)

    def send_message(
        self,
        input_id: str,
        body: bytes | str,
        *,
        headers: dict[str, str] | None = None,
        input_name: str = "hook",
    ) -> Any:
        """POST ``body`` to an input's gateway URL (``/v1/<input_name>/<input_id>``; the name is
        cosmetic), as a webhook sender would; the answer holds the incoming message's id."""
        data = body.encode() if isinstance(body, str) else body
        headers = {"Content-Type": "application/json", **(headers or {})}
        return self._transport.request("POST", path(input_name, input_id), data=data, headers=headers)


for _name, _endpoint in METHODS.items():
    setattr(Client, _name, make_method(_name, _endpoint))
