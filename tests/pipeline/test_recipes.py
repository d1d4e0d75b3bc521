"""End to end through the real worker: input and destination recipes, run_on_each_attempt,
skip, and a runaway recipe that does not stop the worker from delivering the next message."""

from __future__ import annotations

import json

import pytest

from deliveries.models import IncomingMessage, OutgoingMessage
from recipes.models import Recipe
from tests.pipeline.conftest import ingest, wait_until
from tests.routing_factories import RecipeFactory
from tests.support.receivers import fail_times

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def published(account, code: str, **fields) -> Recipe:
    return RecipeFactory(account=account, recipe_draft=code, recipe_published=code, **fields)


def status_of(incoming: IncomingMessage) -> str:
    incoming.refresh_from_db()
    return incoming.status


def test_an_input_recipe_transforms_the_message_on_its_way(
    worker, account, make_scripted_receiver, make_input, make_destination
):
    receiver = make_scripted_receiver()
    recipe = published(
        account,
        "function wh() {\n"
        "  result.data = {order: data.id, email: data.customer.email};\n"
        "  result.event_type = 'order.summarized';\n"
        "  exit(result);\n"
        "}",
    )
    source = make_input(recipe=recipe)
    make_destination(source, receiver, event_filters=["order.summarized"])

    ingest(source, {"id": 7024061, "customer": {"email": "zoe@example.com"}}, event="order.created")

    wait_until(lambda: receiver.requests)
    (request,) = receiver.requests
    assert json.loads(request.body) == {"order": 7024061, "email": "zoe@example.com"}
    assert request.headers["X-Webhooks-Event"] == "order.summarized"


def test_a_destination_recipe_with_run_on_each_attempt_runs_before_every_attempt(
    worker, account, make_scripted_receiver, make_input, make_destination
):
    receiver = make_scripted_receiver(fail_times(1))
    each_attempt = published(
        account,
        "message.setHeader('X-Ran-At', String(Date.now()));",
        type=Recipe.Type.DESTINATION,
        run_on_each_attempt=True,
    )
    source = make_input()
    make_destination(source, receiver, recipe=each_attempt)

    incoming = ingest(source, {"id": 1}, event="order.created")

    wait_until(
        lambda: OutgoingMessage.objects.filter(incoming=incoming, status="succeeded").exists(), timeout=15
    )
    first, second = receiver.requests
    assert first.headers["X-Ran-At"] != second.headers["X-Ran-At"]
    assert json.loads(second.body) == {"id": 1}


def test_an_input_recipe_that_skips_delivers_nothing_and_others_pass(
    worker, account, make_scripted_receiver, make_input, make_destination
):
    receiver = make_scripted_receiver()
    source = make_input(recipe=published(account, "if (message.getEventType() === 'ping') message.skip();"))
    make_destination(source, receiver)

    skipped = ingest(source, {"n": 1}, event="ping")
    delivered = ingest(source, {"n": 2}, event="order.created")

    wait_until(lambda: receiver.requests and status_of(skipped) == IncomingMessage.Status.SKIPPED)
    assert [json.loads(request.body) for request in receiver.requests] == [{"n": 2}]
    assert status_of(delivered) == IncomingMessage.Status.PROCESSED
    assert not OutgoingMessage.objects.filter(incoming=skipped).exists()


def test_a_runaway_recipe_fails_its_message_and_the_worker_delivers_the_next(
    workers, account, make_scripted_receiver, make_input, make_destination
):
    # Near its heap limit V8 collects garbage for ~0.1 s: a longer time limit lets the memory
    # limit be the one that stops the bomb.
    workers.start(RECIPE_TIME_LIMIT_MS="1000")
    receiver = make_scripted_receiver()
    recipe = published(
        account,
        "var body = message.getBody();\n"
        "if (body.kind === 'loop') { while (true) {} }\n"
        "if (body.kind === 'bomb') { var a = []; while (true) a.push(new Array(1e6).fill(1)); }",
    )
    source = make_input(recipe=recipe)
    make_destination(source, receiver)

    looping = ingest(source, {"kind": "loop"}, event="order.created")
    bombing = ingest(source, {"kind": "bomb"}, event="order.created")
    normal = ingest(source, {"kind": "normal"}, event="order.created")

    wait_until(lambda: receiver.requests)
    assert [json.loads(request.body) for request in receiver.requests] == [{"kind": "normal"}]
    for incoming, error in [
        (looping, "The recipe ran longer than its time limit of 1000 ms."),
        (bombing, "The recipe used more than its memory limit of 32 MiB."),
    ]:
        wait_until(lambda incoming=incoming: status_of(incoming) == IncomingMessage.Status.RECIPE_FAILED)
        assert incoming.error == error
    assert status_of(normal) == IncomingMessage.Status.PROCESSED
    assert workers.process.poll() is None
