"""Running one JavaScript recipe on one message in V8 (mini-racer), isolated and fast.

Design. A fresh V8 context costs milliseconds and a call into a warm one a tenth of a
millisecond, so contexts are reused, but only for the recipe version they were made for: the
cache key is (account, recipe, hash of the code), so one account's code never runs where another
account's ran, and each context is its own V8 isolate with its own heap limit. Within a context
runs share nothing either (``prelude.js``):
- what is not recipe API is removed (timers, WebAssembly, shared memory and Atomics, ``eval``,
  weak references, V8's console; there never was ``require``, ``process``, ``fetch``, modules,
  files or network), and every intrinsic is frozen, so ``Object.prototype.x = 1`` does nothing;
- the recipe is compiled once as a function body and called with fresh ``message``, ``data``,
  ``result``, ``exit`` and ``console`` on every run, so its ``var``s are locals;
- the global object's own properties are locked, and whatever a run added to it is deleted before
  the next run (an addition that cannot be deleted retires the context).
A context serves one thread at a time (checked out of the cache, then back in); one that hit the
time or memory limit is closed instead. At most RECIPE_CONTEXT_CACHE_SIZE idle contexts are
kept, the least recently used evicted first.

The time limit is mini-racer's: wall-clock time of the call, which the JavaScript spends on a V8
thread of its own, so it is close to the recipe's CPU time.
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import hashlib
import json
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

from django.conf import settings
from py_mini_racer import JSEvalException, JSOOMException, JSTimeoutException, MiniRacer, init_mini_racer
from py_mini_racer._exc import MiniRacerBaseException

PRELUDE = (Path(__file__).parent / "prelude.js").read_text()
RECIPE_SCRIPT = "recipe.js"
# The Function constructor puts the body on the third line of the script it compiles.
BODY_LINE_OFFSET = 2
METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})
MAX_URL_LENGTH = 2048
MAX_TEXT_LENGTH = 255
MAX_HEADER_LENGTH = 8192
HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
FORM = "application/x-www-form-urlencoded"


@dataclass
class Message:
    """What a recipe sees and may change."""

    body: bytes
    headers: dict[str, str]
    method: str
    event_type: str
    content_type: str
    url: str = ""
    # Headers the recipe set or changed: a delivery sends them whatever headers_to_include says.
    recipe_headers: dict[str, str] = field(default_factory=dict)


@dataclass
class RecipeOutcome:
    message: Message | None  # None: the recipe dropped the message (skip / exit(null))
    error: str = ""
    line: int | None = None  # of the recipe's code, from 1
    column: int | None = None
    logs: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return bool(self.error)

    @property
    def error_text(self) -> str:
        """The error with its place in the code, as stored on a message."""
        if self.line is None:
            return self.error
        return f"{self.error} (line {self.line}, column {self.column})"


class RecipeError(Exception):
    def __init__(self, message: str, line: int | None = None, column: int | None = None) -> None:
        super().__init__(message)
        self.message, self.line, self.column = _utf8(message), line, column


# Isolates are created one at a time: two threads creating a process's first isolates at once
# once aborted a worker inside V8 ("Check failed: !IsConfigurablePoolInitialized()").
_creating = threading.Lock()
# mini-racer's own flag, and V8's memory protection keys off: on a CPU that has them (PKU), V8 gives
# its code pages a key that only the thread initializing V8, and the threads it starts later, may
# write to; an isolate then used on any other thread (a Celery worker's threads, started before its
# first recipe) died of a segmentation fault as it compiled.
V8_FLAGS = ("--single-threaded", "--no-memory-protection-keys")


class RecipeContext:
    """One V8 isolate with the prelude and one compiled recipe."""

    def __init__(self, *, source: str, type: str) -> None:
        with _creating:
            init_mini_racer(flags=V8_FLAGS, ignore_duplicate_init=True)
            self.racer = MiniRacer()
        self.retired = False
        try:
            self.racer.set_hard_memory_limit(settings.RECIPE_MEMORY_LIMIT_MB * 1024 * 1024)
            self.racer.eval(PRELUDE)
            self.racer.eval(f"__wh_setup({json.dumps(source)}, {json.dumps(type)})")
        except JSEvalException as error:
            self.close()
            raise _error_from_v8(str(error), compiling=True) from None
        except BaseException:
            self.close()
            raise

    def run(self, input_json: str) -> dict | None:
        """The run's output (``{"result": ..., "logs": [...]}`` or ``{"skipped": true, ...}``),
        or None when this context must be replaced before it can run (see prelude.js)."""
        limit_ms = settings.RECIPE_TIME_LIMIT_MS
        try:
            output = self.racer.eval(f"__wh_run({json.dumps(input_json)})", timeout_sec=limit_ms / 1000)
        except JSTimeoutException:
            self.retired = True
            raise RecipeError(f"The recipe ran longer than its time limit of {limit_ms} ms.") from None
        except JSOOMException:
            self.retired = True
            limit_mb = settings.RECIPE_MEMORY_LIMIT_MB
            raise RecipeError(f"The recipe used more than its memory limit of {limit_mb} MiB.") from None
        except JSEvalException as error:
            raise _error_from_v8(str(error)) from None
        except MiniRacerBaseException as error:
            self.retired = True
            raise RecipeError(f"The recipe could not be run: {error}") from None
        if output == "retire":
            self.retired = True
            return None
        try:
            return json.loads(output)
        except RecursionError:
            raise RecipeError("The recipe's result is nested too deeply.") from None

    def logs(self) -> list[str]:
        """The console lines of the last run (after it failed)."""
        try:
            return [_utf8(line) for line in json.loads(self.racer.eval("__wh_logs()", timeout_sec=1))]
        except MiniRacerBaseException:
            return []

    def close(self) -> None:
        if self.retired:
            # V8 answers the call it terminated after mini-racer gave up on it; an answer arriving
            # after close() is an error printed by ctypes. A last call waits for it.
            with contextlib.suppress(MiniRacerBaseException):
                self.racer.eval("0", timeout_sec=1)
        self.racer.close()


class ContextCache:
    """Idle contexts by recipe version, least recently used first."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: OrderedDict[tuple, list[RecipeContext]] = OrderedDict()
        self._count = 0

    def checkout(self, key: tuple) -> RecipeContext | None:
        with self._lock:
            contexts = self._idle.get(key)
            if not contexts:
                return None
            context = contexts.pop()
            self._count -= 1
            if not contexts:
                del self._idle[key]
            return context

    def checkin(self, key: tuple, context: RecipeContext) -> None:
        evicted = []
        with self._lock:
            self._idle.setdefault(key, []).append(context)
            self._idle.move_to_end(key)
            self._count += 1
            while self._count > settings.RECIPE_CONTEXT_CACHE_SIZE:
                oldest_key, contexts = next(iter(self._idle.items()))
                evicted.append(contexts.pop(0))
                self._count -= 1
                if not contexts:
                    del self._idle[oldest_key]
        for victim in evicted:
            victim.close()

    def clear(self) -> None:
        with self._lock:
            contexts = [context for group in self._idle.values() for context in group]
            self._idle.clear()
            self._count = 0
        for context in contexts:
            context.close()

    def __len__(self) -> int:
        return self._count


contexts = ContextCache()
# A MiniRacer still open when the interpreter shuts down hangs it.
atexit.register(contexts.clear)


def version_key(*, account_id: str, recipe_id: str, source: str) -> tuple:
    return (account_id, recipe_id, hashlib.sha256(source.encode()).hexdigest())


def run(*, source: str, type: str, message: Message, cache_key: tuple | None = None) -> RecipeOutcome:
    """Run ``source`` (a recipe of ``type`` input or destination) on ``message``.

    With ``cache_key`` (see ``version_key``) the context is taken from and given back to the
    cache; without, a fresh one serves this run only (drafts under test)."""
    data = _parse_body(message.body, message.content_type)
    input_json = json.dumps(
        {
            "data": data,
            "headers": message.headers,
            "url": message.url,
            "method": message.method,
            "event_type": message.event_type,
            "content_type": message.content_type,
        }
    )
    context = None
    try:
        output = None
        while output is None:
            context = (cache_key and contexts.checkout(cache_key)) or RecipeContext(source=source, type=type)
            output = context.run(input_json)
            if output is None:
                context.close()
                context = None
        logs = [_utf8(line) for line in output["logs"]]
        if output.get("skipped"):
            return RecipeOutcome(message=None, logs=logs)
        try:
            return RecipeOutcome(message=_message_of(output["result"], message, data, type), logs=logs)
        except RecipeError as error:
            return RecipeOutcome(message=None, error=error.message, logs=logs)
    except RecipeError as error:
        logs = context.logs() if context and not context.retired else []
        return RecipeOutcome(
            message=None, error=error.message, line=error.line, column=error.column, logs=logs
        )
    finally:
        if context is not None:
            if cache_key and not context.retired:
                contexts.checkin(cache_key, context)
            else:
                context.close()


# --- V8's errors ----------------------------------------------------------------------------

HEADER = re.compile(r"(?P<script>[^\n]*?):(?P<line>\d+): (?P<text>[^\n]*)")
CARET = re.compile(r"^( *)\^", re.MULTILINE)
RECIPE_FRAME = re.compile(re.escape(RECIPE_SCRIPT) + r":(\d+):(\d+)")


def _error_from_v8(text: str, *, compiling: bool = False) -> RecipeError:
    """V8 reports an uncaught error as ``script:line: message``, the line of code, a caret
    under the column, then the stack. A syntax error names no script (it is the recipe's);
    errors thrown by the prelude (the message API) are placed at the recipe's first frame."""
    header = HEADER.match(text)
    if header is None:
        return RecipeError(text.strip() or "The recipe failed.")
    message = header["text"]
    if compiling or header["script"] == RECIPE_SCRIPT:
        caret = CARET.search(text, header.end())
        column = len(caret[1]) + 1 if caret else None
        return RecipeError(message, int(header["line"]) - BODY_LINE_OFFSET, column)
    frame = RECIPE_FRAME.search(text)
    if frame:
        return RecipeError(message, int(frame[1]) - BODY_LINE_OFFSET, int(frame[2]))
    return RecipeError(message)


# --- bodies in and out ----------------------------------------------------------------------


def _text(body: bytes) -> str:
    # Bytes that are not UTF-8 survive the round trip as lone surrogates.
    return body.decode("utf-8", "surrogateescape")


def _bytes(text: str) -> bytes:
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a lone surrogate made in JavaScript
        return text.encode("utf-8", "replace")


def _utf8(text: str) -> str:
    """Text that can be stored and rendered (JavaScript strings may hold lone surrogates)."""
    return text.encode("utf-8", "replace").decode("utf-8")


def _parse_body(body: bytes, content_type: str) -> object:
    """``data``: JSON parsed, a form as an object (last value of a repeated field), else text."""
    text = _text(body)
    kind = content_type.split(";")[0].strip().lower()
    if kind == FORM:
        return dict(parse_qsl(text, keep_blank_values=True))
    if "json" in kind or (not kind and text.lstrip()[:1] in ("{", "[")):
        try:
            return json.loads(text)
        except (ValueError, RecursionError):
            pass
    return text


def _same(a: object, b: object) -> bool:
    """JSON values equal as JavaScript sees them (1.0 is 1, true is not 1)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(value, b[key]) for key, value in a.items())
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(map(_same, a, b))
    return type(a) is type(b) and a == b


def _is_form(content_type: str) -> bool:
    return content_type.split(";")[0].strip().lower() == FORM


def _serialize_body(data: object, content_type: str) -> bytes:
    if data is None:
        return b""
    if isinstance(data, str):
        return _bytes(data)
    if _is_form(content_type):
        if not isinstance(data, dict):
            raise RecipeError("A form-encoded body must be an object or a string.")
        fields = {
            name: value if isinstance(value, str) else "" if value is None else json.dumps(value)
            for name, value in data.items()
        }
        return urlencode(fields, errors="replace").encode()
    return _bytes(json.dumps(data, separators=(",", ":"), ensure_ascii=False))


def _checked(value: object, original: str, name: str, max_length: int = MAX_TEXT_LENGTH) -> str:
    """A text value of the result: as it was, or a changed value that can be stored and sent."""
    if value == original:
        return original
    if value is None:
        return ""
    value = _utf8(value if isinstance(value, str) else json.dumps(value))
    if len(value) > max_length or any(char in value for char in "\x00\r\n"):
        raise RecipeError(f"{name} must be at most {max_length} characters, without line breaks or NUL.")
    return value


def _field(result: dict, key: str, original: str, name: str, max_length: int = MAX_TEXT_LENGTH) -> str:
    return _checked(result.get(key, original), original, name, max_length)


def _message_of(result: dict, original: Message, data_in: object, type: str) -> Message:
    """The message a run produced, checked so that it can be stored and sent. What the recipe
    left as it was stays byte for byte; an object body is serialized for its content type (JSON,
    or a form when the content type is application/x-www-form-urlencoded)."""
    content_type = _field(result, "content_type", original.content_type, "The content type")
    headers = result.get("headers", original.headers)
    if not isinstance(headers, dict):
        raise RecipeError("The headers must be an object of names and values.")
    recipe_headers = {}
    for name, value in list(headers.items()):
        if value is None:
            del headers[name]
        elif original.headers.get(name) != value:
            if not HEADER_NAME.fullmatch(name):
                raise RecipeError(f"{name!r} is not a valid header name.")
            headers[name] = recipe_headers[name] = _checked(value, "", f"Header {name}", MAX_HEADER_LENGTH)
    for name in [name for name in recipe_headers if name.lower() == "content-type"]:
        # The content type travels as content_type: setHeader() and setContentType() agree.
        if content_type == original.content_type:
            content_type = recipe_headers[name]
        del recipe_headers[name]
    method = _field(result, "method", original.method, "The method").upper()
    if method != original.method and method not in METHODS:
        raise RecipeError(f"The method must be one of {', '.join(sorted(METHODS))}.")
    url = original.url
    if type == "destination":
        url = _field(result, "url", original.url, "The URL", MAX_URL_LENGTH)
        parts = urlsplit(url)
        if url != original.url and (parts.scheme not in ("http", "https") or not parts.hostname):
            raise RecipeError("The URL must be an http:// or https:// URL.")
    body = original.body
    if "data" in result:
        data = result["data"]
        try:
            changed = not _same(data, data_in)
        except RecursionError:
            changed = True
        if changed or _is_form(content_type) != _is_form(original.content_type):
            body = _serialize_body(data, content_type)
            if not content_type and not isinstance(data, str | None):
                content_type = "application/json"
    return Message(
        body=body,
        headers=headers,
        method=method,
        event_type=_field(result, "event_type", original.event_type, "The event type"),
        content_type=content_type,
        url=url,
        recipe_headers=recipe_headers,
    )


def body_for_display(body: bytes) -> tuple[str, str | None]:
    """A body as text, or base64 (and its encoding) when it is not UTF-8."""
    try:
        return body.decode("utf-8"), None
    except UnicodeDecodeError:
        return base64.b64encode(body).decode("ascii"), "base64"
