"""The embedded view: the snippet a provider pastes into its page, and the introduction it shows.

The snippet is a ``div`` and a script (``providers/static/providers/embed.js``) that mounts an
iframe of ``/embedded/`` in it; the token travels in the iframe URL's fragment, which browsers
never send to a server. The view's options are kept on the client token, not in the URL, so the
page cannot be talked into other ones."""

from __future__ import annotations

from django.templatetags.static import static
from django.utils.html import format_html
from markdown_it import MarkdownIt

from destinations import http_client
from providers.models import ClientToken

TABS = ("introduction", "dashboard", "destinations", "logs")
SHOW_INTRODUCTION = ("always", "never", "no-destinations")
INTRODUCTION_TIMEOUT_SECONDS = 5.0
# Raw HTML in the markdown is shown as text; markdown-it refuses javascript:, vbscript:, file: and
# non-image data: links on its own.
_markdown = MarkdownIt("commonmark", {"html": False})


def render_markdown(text: str) -> str:
    """Markdown as HTML that is safe to insert into the page."""
    return _markdown.render(text)


def snippet_html(*, token: str, element_id: str, api_url: str, embedded_url: str = "") -> str:
    """The HTML a provider pastes: the element, and the script that mounts the iframe in it."""
    base = api_url.rstrip("/")
    return format_html(
        '<div id="{}"></div>\n<script src="{}" data-element-id="{}" data-view-url="{}" data-token="{}"></script>',
        element_id,
        embedded_url or f"{base}{static('providers/embed.js')}",
        element_id,
        f"{base}/embedded/",
        token,
    )


def _default_introduction(token: ClientToken) -> str:
    if token.consumer is not None and token.consumer.application.description:
        return token.consumer.application.description
    sender = token.consumer.application.name if token.consumer is not None else "This service"
    return (
        "## Webhooks\n\n"
        f"{sender} can notify your own systems when something happens, with an HTTP request to a "
        "URL of yours.\n\n"
        "1. Under **Destinations**, add the URL and choose the events it should receive.\n"
        "2. Under **Logs**, follow every delivery, see your endpoint's answers and send one again.\n"
        "3. The **Dashboard** shows the deliveries of the last 7 days and 24 hours.\n"
    )


def introduction_html(token: ClientToken) -> str:
    """The introduction of the view: the markdown at the token's ``introduction_url`` (fetched
    through the SSRF-guarded client), else the application's description, else a short guide."""
    url = token.options.get("introduction_url")
    if not url:
        return render_markdown(_default_introduction(token))
    outcome = http_client.send(
        method="GET",
        url=url,
        headers={"Accept": "text/markdown, text/plain"},
        body=b"",
        connect_timeout=INTRODUCTION_TIMEOUT_SECONDS,
        read_timeout=INTRODUCTION_TIMEOUT_SECONDS,
    )
    if not outcome.ok:
        return render_markdown("The introduction could not be loaded.")
    return render_markdown(outcome.body.decode("utf-8", "replace"))
