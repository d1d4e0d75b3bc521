"""HTTP for the client: authentication, the error shape, retries with backoff, pagination."""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

import requests

from hookrelay import __version__


class HookRelayError(Exception):
    """Every failure of a call: the API's error shape ``{"error": {code, message, fields}}``, or
    a connection failure (``status`` None, ``code`` "connection_error")."""

    def __init__(self, message: str, *, status: int | None, code: str, fields: dict | None = None) -> None:
        super().__init__(f"{status or '-'} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields or {}

    @classmethod
    def from_response(cls, response: requests.Response) -> HookRelayError:
        try:
            error = response.json()["error"]
            return cls(
                str(error.get("message", "")),
                status=response.status_code,
                code=str(error.get("code", "error")),
                fields=error.get("fields") or {},
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            # Not our error shape (a proxy's page, a crash): keep the start of the body.
            return cls(response.text[:500], status=response.status_code, code=f"http_{response.status_code}")


def path(*segments: str) -> str:
    """An API path from segments, each percent-encoded (ids, keys and names may hold any character)."""
    return "/" + "/".join(quote(str(segment), safe="") for segment in segments)


def retry_after_seconds(value: str | None) -> float | None:
    """A ``Retry-After`` header in seconds (delta-seconds or an HTTP date), None when absent or bad."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _plain(value: Any) -> Any:
    """Query parameters as the API reads them: booleans as true/false, lists comma-separated."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ",".join(str(item) for item in value)
    return value


class Transport:
    """One ``requests`` session against ``base_url`` (the API root, ending in ``/v1``).

    Answers 429 and 5xx are retried up to ``max_retries`` times, waiting ``Retry-After`` when
    the server gives it, else ``backoff * 2**n`` seconds with +-20% jitter, each wait capped at
    ``max_backoff``."""

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        timeout: float = 30.0,
        max_retries: int = 3,
        backoff: float = 0.5,
        max_backoff: float = 60.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.session = requests.Session()
        self.session.headers["User-Agent"] = f"hookrelay-python/{__version__}"

    def request(
        self,
        method: str,
        url: str,
        *,
        params: dict[str, Any] | None = None,
        json: dict[str, Any] | None = None,
        data: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        """Send one call and return its decoded JSON (text when the answer is not JSON, None
        when it is empty). ``url`` is a path under ``base_url`` or an absolute URL."""
        if not url.startswith(("http://", "https://")):
            url = self.base_url + url
        if params is not None:
            params = {key: _plain(value) for key, value in params.items() if value is not None}
        if json is not None:
            json = {key: value for key, value in json.items() if value is not None}
        headers = dict(headers or {})
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        outcome = self._exchange(method, url, params=params, json=json, data=data, headers=headers)
        # Raised here, out of the frame that held the response: a kept exception's traceback
        # then does not keep the connection pool, and its open sockets, alive.
        if isinstance(outcome, HookRelayError):
            raise outcome
        return outcome

    def _exchange(self, method: str, url: str, **kwargs: Any) -> Any:
        """The answer decoded, or the error to raise, after the retries."""
        for attempt in range(self.max_retries + 1):
            try:
                response = self.session.request(method, url, timeout=self.timeout, **kwargs)
            except requests.RequestException as exc:
                return HookRelayError(str(exc), status=None, code="connection_error")
            retried = response.status_code == 429 or response.status_code >= 500
            if not retried or attempt == self.max_retries:
                break
            time.sleep(self._delay(attempt, response))
        if response.status_code >= 400:
            return HookRelayError.from_response(response)
        return _decoded(response)

    def _delay(self, attempt: int, response: requests.Response) -> float:
        told = retry_after_seconds(response.headers.get("Retry-After"))
        if told is None:
            told = self.backoff * 2**attempt * random.uniform(0.8, 1.2)  # noqa: S311 (jitter, not crypto)
        return min(told, self.max_backoff)

    def paginate(self, first_page: Callable[..., Any], *args: Any, **kwargs: Any) -> Iterator[Any]:
        """Every item of a list call, page after page: ``first_page(*args, **kwargs)`` is a
        client method; the pages that follow are fetched from each page's ``next`` link."""
        page = first_page(*args, **kwargs)
        while True:
            if isinstance(page, list):  # a list the API does not paginate
                yield from page
                return
            yield from page.get("results", [])
            if not page.get("next"):
                return
            page = self.request("GET", page["next"])


def _decoded(response: requests.Response) -> Any:
    if not response.content:
        return None
    if "json" in response.headers.get("Content-Type", ""):
        return response.json()
    return response.text
