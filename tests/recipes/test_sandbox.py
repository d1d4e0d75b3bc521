"""The JavaScript sandbox on its own: both recipe forms, the limits, isolation, errors."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from urllib.parse import parse_qs

import pytest

from recipes.sandbox import Message, RecipeOutcome, contexts, run, version_key

SLACK_RECIPE = """
var email_field = 'email';
var email = message.getBody()[email_field];
message.setUrl('https://hooks.slack.com/services/T0000/B0000/XXXXXXXX');
message.setBody({payload: JSON.stringify({text: 'New sign-up: ' + email})});
message.setContentType('application/x-www-form-urlencoded');
"""


@pytest.fixture(autouse=True)
def fresh_cache():
    contexts.clear()
    yield
    contexts.clear()


def order(**changes) -> Message:
    fields = {
        "body": b'{"name": "Zo\xc3\xab", "email": "zoe@example.com", "total": 12.5}',
        "headers": {"Content-Type": "application/json", "X-Shop": "shop-1"},
        "method": "POST",
        "event_type": "order.created",
        "content_type": "application/json",
        "url": "https://receiver.example.com/hook",
    }
    return Message(**{**fields, **changes})


def transform(
    source: str, message: Message | None = None, type: str = "destination", **kwargs
) -> RecipeOutcome:
    return run(source=source, type=type, message=message or order(), **kwargs)


def cached(source: str, account_id: str = "ACa", recipe_id: str = "REr") -> dict:
    """Keyword arguments running ``source`` as a published recipe version, in its cached context."""
    return {"cache_key": version_key(account_id=account_id, recipe_id=recipe_id, source=source)}


# The function wh(){} form


def test_the_reference_example_replaces_the_body():
    outcome = transform(
        'function wh(){ result.data = {"name": data.name, "client_id": 8000}; exit(result); }'
    )

    assert not outcome.failed, outcome.error
    assert json.loads(outcome.message.body) == {"name": "Zoë", "client_id": 8000}
    assert outcome.message.content_type == "application/json"


def test_the_function_form_changes_headers_event_type_url_and_method():
    outcome = transform(
        """
        function wh() {
          result.headers['X-Total'] = String(data.total);
          delete result.headers['X-Shop'];
          result.event_type = 'order.paid';
          result.url = result.url + '?shop=1';
          result.method = 'PUT';
          exit(result);
        }
        """
    )

    message = outcome.message
    assert message.headers == {"Content-Type": "application/json", "X-Total": "12.5"}
    assert message.recipe_headers == {"X-Total": "12.5"}
    assert message.event_type == "order.paid"
    assert message.url == "https://receiver.example.com/hook?shop=1"
    assert message.method == "PUT"
    assert message.body == order().body


def test_exit_without_a_value_keeps_the_result_and_exit_null_drops_the_message():
    kept = transform("function wh(){ result.event_type = 'kept'; exit(); }")
    dropped = transform("function wh(){ exit(null); }")

    assert kept.message.event_type == "kept"
    assert dropped.message is None
    assert not dropped.failed


# The message form


def test_the_message_form_reads_and_changes_the_message():
    outcome = transform(
        """
        var body = message.getBody();
        message.setBody({customer: body.name, shop: message.getHeader('x-shop')});
        message.setHeader('X-Signed-By', 'recipes');
        message.setEventType(message.getEventType() + '.v2');
        message.setMethod('patch');
        message.setUrl(message.getUrl().replace('/hook', '/orders'));
        """
    )

    message = outcome.message
    assert json.loads(message.body) == {"customer": "Zoë", "shop": "shop-1"}
    assert message.headers["X-Signed-By"] == "recipes"
    assert message.recipe_headers == {"X-Signed-By": "recipes"}
    assert message.event_type == "order.created.v2"
    assert message.method == "PATCH"
    assert message.url == "https://receiver.example.com/orders"


def test_the_slack_example_works_as_written_and_its_body_is_form_encoded():
    outcome = transform(SLACK_RECIPE)

    message = outcome.message
    assert message.url == "https://hooks.slack.com/services/T0000/B0000/XXXXXXXX"
    assert message.content_type == "application/x-www-form-urlencoded"
    form = parse_qs(message.body.decode())
    assert json.loads(form["payload"][0]) == {"text": "New sign-up: zoe@example.com"}


def test_skip_drops_the_message():
    outcome = transform(
        "if (message.getEventType() === 'order.created') message.skip(); message.setBody('x');"
    )

    assert outcome.message is None
    assert not outcome.failed


def test_a_body_the_recipe_does_not_change_keeps_its_exact_bytes():
    body = b'{ "b": 1,\n  "a": [1.0, 2] }'
    binary = b"\x00\xff\xfe binary \x80"

    json_outcome = transform(
        "message.setEventType('seen'); message.getBody().a.push(3); message.getBody().a.pop();",
        order(body=body),
    )
    binary_outcome = transform(
        "message.setHeader('X-Seen', message.getBody().length);",
        order(body=binary, content_type="application/octet-stream"),
    )

    assert json_outcome.message.body == body
    assert binary_outcome.message.body == binary
    assert binary_outcome.message.recipe_headers == {"X-Seen": "12"}


def test_a_form_encoded_body_is_data_as_an_object():
    message = order(
        body=b"email=zoe%40example.com&plan=pro", content_type="application/x-www-form-urlencoded"
    )

    outcome = transform("function wh(){ result.data.plan = data.plan.toUpperCase(); exit(result); }", message)

    assert parse_qs(outcome.message.body.decode()) == {"email": ["zoe@example.com"], "plan": ["PRO"]}


def test_console_log_lines_are_captured():
    outcome = transform("console.log('total', message.getBody().total, {a: [1]}); console.error('second');")

    assert outcome.logs == ['total 12.5 {"a":[1]}', "second"]


def test_get_url_and_set_url_are_for_destination_recipes_only():
    outcome = transform("\n  message.setUrl('https://elsewhere.example.com/');", type="input")

    assert outcome.failed
    assert "only available in destination recipes" in outcome.error
    assert (outcome.line, outcome.column) == (2, 11)


@pytest.mark.parametrize(
    ("source", "error"),
    [
        ("message.setUrl('ftp://files.example.com/')", "http:// or https://"),
        ("message.setMethod('BREW')", "method must be one of"),
        ("message.setHeader('X-Split', 'a\\r\\nInjected: 1')", "without line breaks"),
        ("message.setHeader('Bad Name', '1')", "not a valid header name"),
        ("function wh(){ exit(5); }", "exit() takes the result object"),
    ],
)
def test_a_result_that_cannot_be_sent_fails_the_recipe(source, error):
    outcome = transform(source)

    assert outcome.failed
    assert error in outcome.error
    assert outcome.message is None


# Errors with line and column


def test_a_syntax_error_has_its_line_and_column():
    outcome = transform("var ok = 1;\nvar broken = ;")

    assert outcome.error == "SyntaxError: Unexpected token ';'"
    assert (outcome.line, outcome.column) == (2, 14)
    assert outcome.error_text == "SyntaxError: Unexpected token ';' (line 2, column 14)"


def test_a_runtime_error_has_its_line_and_column_and_keeps_the_logs():
    outcome = transform("console.log('before');\nfunction wh() {\n  var x = data.missing.field;\n}")

    assert outcome.error == "TypeError: Cannot read properties of undefined (reading 'field')"
    assert (outcome.line, outcome.column) == (3, 24)
    assert outcome.logs == ["before"]


def test_a_thrown_value_that_is_not_an_error_has_its_place_too():
    outcome = transform("\n\n    throw 'no customer';")

    assert outcome.error == "no customer"
    assert (outcome.line, outcome.column) == (3, 5)


# Limits: time and memory, and the worker goes on


def test_an_endless_loop_is_stopped_by_the_time_limit_and_the_next_run_works(settings):
    settings.RECIPE_TIME_LIMIT_MS = 100
    source = "if (message.getEventType() === 'loop') { while (true) {} } message.setHeader('X-Ok', '1');"

    started = time.monotonic()
    stopped = transform(source, order(event_type="loop"), **cached(source))
    elapsed = time.monotonic() - started
    following = transform(source, **cached(source))

    assert stopped.error == "The recipe ran longer than its time limit of 100 ms."
    assert elapsed >= 0.09  # it ran until its limit (how much later it stops depends on the machine)
    assert following.message.headers["X-Ok"] == "1"


def test_a_memory_bomb_is_stopped_and_the_next_run_works(settings):
    settings.RECIPE_TIME_LIMIT_MS = 2000  # near its heap limit V8 collects garbage for ~0.1 s
    source = (
        "if (message.getEventType() === 'bomb') { var a = []; while (true) a.push(new Array(1e6).fill(1)); }"
        "message.setHeader('X-Ok', '1');"
    )

    stopped = transform(source, order(event_type="bomb"), **cached(source))
    following = transform(source, **cached(source))

    assert stopped.error == "The recipe used more than its memory limit of 32 MiB."
    assert following.message.headers["X-Ok"] == "1"


def test_the_limits_are_settings(settings):
    settings.RECIPE_TIME_LIMIT_MS = 20
    slow = transform("var end = Date.now() + 60; while (Date.now() < end) {}")
    settings.RECIPE_TIME_LIMIT_MS = 2000
    settings.RECIPE_MEMORY_LIMIT_MB = 8
    big = transform("var a = []; for (var i = 0; i < 100; i++) a.push(new Array(1e6).fill(i));")

    assert "time limit of 20 ms" in slow.error
    assert "memory limit of 8 MiB" in big.error


# Isolation


@pytest.mark.parametrize(
    "name",
    [
        "require",
        "process",
        "fetch",
        "setTimeout",
        "clearTimeout",
        "WebAssembly",
        "SharedArrayBuffer",
        "Atomics",
        "eval",
    ],
)
def test_nothing_but_the_recipe_api_is_in_scope(name):
    outcome = transform(f"message.setBody(typeof {name} === 'undefined' ? 'absent' : 'present');")

    assert outcome.message.body == b"absent"


def test_dynamic_import_loads_nothing():
    outcome = transform(
        "import('fs').then(function (fs) { message.setBody('loaded'); }); message.setBody('done');"
    )

    assert outcome.message.body == b"done"


@pytest.mark.parametrize(
    "attack",
    [
        "Object.prototype.leak = 'polluted'",
        "Array.prototype.leak = 'polluted'",
        "JSON.leak = 'polluted'",
        "leak = 'polluted'",
        "globalThis.leak = 'polluted'",
        "this.leak = 'polluted'",
        "Function('return this')().leak = 'polluted'",
        "Object.defineProperty(globalThis, 'leak', {value: 'polluted', configurable: false})",
        "arguments.callee.leak = 'polluted'",
        "Promise.resolve().then(function () { globalThis.leak = 'polluted'; })",
        "Object.preventExtensions(globalThis)",
    ],
)
def test_a_run_leaves_nothing_behind_for_the_next_run_of_the_same_recipe(attack):
    source = (
        f"if (message.getEventType() === 'attack') {{ {attack}; }}\n"
        "var seen = [({}).leak, [].leak, JSON.leak, typeof leak === 'undefined' ? undefined : leak,"
        " arguments.callee.leak, globalThis.leak];\n"
        "message.setBody(seen.filter(function (x) { return x !== undefined; }));"
    )

    transform(source, order(event_type="attack"), **cached(source))
    later = transform(source, **cached(source))

    assert later.message.body == b"[]"


def test_one_accounts_recipe_never_sees_what_anothers_left_behind():
    source = (
        "globalThis.secret = globalThis.secret || message.getBody().name; message.setBody(String(secret));"
    )
    victim = transform(source, **cached(source, account_id="ACvictim"))

    attacker = transform(
        source, order(body=b'{"name": "attacker"}'), **cached(source, account_id="ACattacker")
    )

    assert victim.message.body == "Zoë".encode()
    assert attacker.message.body == b"attacker"


def test_a_recipe_version_reuses_one_warm_context():
    source = "message.setHeader('X-Run', 'yes');"

    for _ in range(3):
        transform(source, **cached(source))

    assert len(contexts) == 1


def test_the_cache_keeps_at_most_its_size_evicting_the_least_recently_used(settings):
    settings.RECIPE_CONTEXT_CACHE_SIZE = 2

    for recipe_id in ["RE1", "RE2", "RE3"]:
        transform("message.setBody('x');", **cached("message.setBody('x');", recipe_id=recipe_id))

    assert len(contexts) == 2
    assert (
        contexts.checkout(version_key(account_id="ACa", recipe_id="RE1", source="message.setBody('x');"))
        is None
    )


def test_threads_running_the_same_recipe_each_get_their_own_run():
    source = "message.setBody({echo: message.getBody().n});"
    failures = []

    def work(n: int) -> None:
        for _ in range(20):
            outcome = transform(source, order(body=json.dumps({"n": n}).encode()), **cached(source))
            if outcome.message is None or json.loads(outcome.message.body) != {"echo": n}:
                failures.append((n, outcome))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    assert 1 <= len(contexts) <= 8


# A fresh process whose first recipe runs on a thread it had started before (as a Celery worker's
# threads are), then on several threads at once.
FIRST_RUN_ON_A_THREAD = """
import json, threading
import django
django.setup()
from recipes.sandbox import Message, run

message = Message(body=b'{"n": 1}', headers={}, method="POST", event_type="e", content_type="application/json", url="")
results = []
start = threading.Event()

def work():
    start.wait()
    for _ in range(20):
        outcome = run(source="message.setBody({n: message.getBody().n + 1});", type="input", message=message)
        results.append(json.loads(outcome.message.body)["n"])

threads = [threading.Thread(target=work) for _ in range(4)]
for thread in threads:
    thread.start()
start.set()
for thread in threads:
    thread.join()
print(len(results), set(results))
"""


def test_recipes_run_on_threads_started_before_the_first_one_without_crashing_the_process():
    result = subprocess.run(
        [sys.executable, "-c", FIRST_RUN_ON_A_THREAD],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert (result.returncode, result.stdout.strip()) == (0, "80 {2}"), result.stderr[-2000:]
