"""Recipes in the pipeline, calling the task bodies (processing and delivery) directly: input
recipes once per incoming message, destination recipes once per outgoing message or before each
attempt, only published code, skip, failures, and resend after the fix."""

from __future__ import annotations

import json
from urllib.parse import parse_qs

import pytest
from django.utils import timezone

from deliveries.models import IncomingMessage, OutgoingMessage
from deliveries.processing import incoming_process
from recipes.models import Recipe
from recipes.sandbox import contexts
from tests.conftest import error_code
from tests.pipeline_core.conftest import accept, deliver_one
from tests.recipes.test_sandbox import SLACK_RECIPE
from tests.routing_factories import DestinationFactory, InputFactory, RecipeFactory
from tests.support.receivers import fail_times

pytestmark = pytest.mark.django_db

BODY = b'{"event": "order.created", "customer": {"email": "zoe@example.com"}, "total": 12.5}'


@pytest.fixture(autouse=True)
def fresh_cache():
    yield
    contexts.clear()


@pytest.fixture
def source(account_a):
    return InputFactory(account=account_a, event_location="payload", event_path="msg.event")


@pytest.fixture
def destination(account_a, source, receiver):
    return DestinationFactory(
        account=account_a,
        input=source,
        endpoint_url=receiver.url + "hook",
        rate_limit=None,
        retry_policy_id="fixed",
        retry_interval=1,
        retry_count=3,
    )


def published(account, code: str, **fields) -> Recipe:
    return RecipeFactory(account=account, recipe_draft=code, recipe_published=code, **fields)


def process(source, body: bytes = BODY) -> tuple[IncomingMessage, list[str]]:
    incoming = accept(source, body=body)
    outgoing_ids = incoming_process(incoming_ids=[incoming.pk])
    incoming.refresh_from_db()
    return incoming, outgoing_ids


def deliver_again(outgoing_id: str) -> None:
    OutgoingMessage.objects.filter(pk=outgoing_id).update(next_attempt_at=timezone.now())
    deliver_one(outgoing_id)


def resend_url(account) -> str:
    return f"/v1/accounts/{account.id}/resend"


# Input recipes


def test_an_input_recipe_transforms_what_the_destinations_receive(account_a, source, destination, receiver):
    source.recipe = published(
        account_a,
        "message.setBody({email: message.getBody().customer.email});\nmessage.setEventType('customer.seen');",
    )
    source.save()
    destination.event_filters = ["customer.*"]
    destination.save()

    incoming, (outgoing_id,) = process(source)
    deliver_one(outgoing_id)

    (request,) = receiver.requests
    assert json.loads(request.body) == {"email": "zoe@example.com"}
    assert request.headers["X-Webhooks-Event"] == "customer.seen"
    assert incoming.status == IncomingMessage.Status.PROCESSED
    assert bytes(incoming.body) == request.body
    assert incoming.event_type == "customer.seen"


def test_only_the_published_code_runs(account_a, source, destination, receiver):
    source.recipe = RecipeFactory(
        account=account_a,
        recipe_draft="message.setBody('draft');",
        recipe_published="message.setBody('published');",
    )
    source.save()

    _, (outgoing_id,) = process(source)
    deliver_one(outgoing_id)

    assert receiver.requests[0].body == b"published"


def test_a_recipe_never_published_lets_the_message_through(account_a, source, destination, receiver):
    source.recipe = RecipeFactory(account=account_a, recipe_draft="message.skip();")
    source.save()

    _, (outgoing_id,) = process(source)
    deliver_one(outgoing_id)

    assert receiver.requests[0].body == BODY


def test_an_input_recipe_that_skips_delivers_nothing(account_a, source, destination):
    source.recipe = published(account_a, "function wh(){ exit(null); }")
    source.save()

    incoming, outgoing_ids = process(source)

    assert outgoing_ids == []
    assert incoming.status == IncomingMessage.Status.SKIPPED
    assert not OutgoingMessage.objects.exists()


def test_a_failing_input_recipe_is_recorded_and_resend_after_the_fix_delivers(
    owner, source, destination, receiver
):
    recipe = published(owner.account, "var customer = data.customer;\nvar city = customer.address.city;")
    source.recipe = recipe
    source.save()

    incoming, outgoing_ids = process(source)

    assert outgoing_ids == []
    assert incoming.status == IncomingMessage.Status.RECIPE_FAILED
    assert (
        incoming.error
        == "TypeError: Cannot read properties of undefined (reading 'city') (line 2, column 29)"
    )

    recipe_url = f"/v1/accounts/{owner.account.id}/recipes/{recipe.pk}"
    owner.client.put(recipe_url, {"recipe_draft": "message.setHeader('X-Fixed', 'yes');"}, format="json")
    owner.client.post(f"{recipe_url}/publish")
    response = owner.client.post(
        resend_url(owner.account), {"incoming_message_ids": [incoming.pk]}, format="json"
    )

    assert response.status_code == 201, response.content
    assert response.json()["outgoing_messages"] == []
    [answered] = response.json()["incoming_messages"]
    assert (answered["id"], answered["status"], answered["error"]) == (incoming.pk, "received", "")
    (outgoing_id,) = incoming_process(incoming_ids=[incoming.pk])
    deliver_one(outgoing_id)
    assert receiver.requests[0].body == BODY
    assert OutgoingMessage.objects.get(pk=outgoing_id).status == OutgoingMessage.Status.SUCCEEDED


def test_resend_takes_incoming_ids_as_a_comma_string_in_a_form(owner, source, destination):
    source.recipe = published(owner.account, "message.skip();")
    source.save()
    first, _ = process(source)
    second, _ = process(source)

    response = owner.client.post(
        resend_url(owner.account), {"incoming_message_ids": f"{first.pk},{second.pk}"}
    )

    assert response.status_code == 201, response.content
    assert {m["id"] for m in response.json()["incoming_messages"]} == {first.pk, second.pk}


def test_resend_refuses_an_incoming_message_no_input_recipe_failed(owner, source, destination):
    incoming, _ = process(source)

    response = owner.client.post(
        resend_url(owner.account), {"incoming_message_ids": [incoming.pk]}, format="json"
    )

    assert response.status_code == 409
    assert error_code(response) == "conflict"
    incoming.refresh_from_db()
    assert incoming.status == IncomingMessage.Status.PROCESSED


def test_resend_refuses_another_tenants_incoming_message(owner, outsider):
    theirs = accept(InputFactory(account=outsider.account), status=IncomingMessage.Status.SKIPPED)

    response = owner.client.post(
        resend_url(owner.account), {"incoming_message_ids": [theirs.pk]}, format="json"
    )

    assert response.status_code == 404
    assert error_code(response) == "not_found"


def test_resend_needs_outgoing_or_incoming_ids(owner):
    response = owner.client.post(resend_url(owner.account), {}, format="json")

    assert response.status_code == 400
    assert "outgoing_message_ids" in response.json()["error"]["fields"]


# Destination recipes


def test_a_destination_recipe_runs_once_and_retries_send_its_stored_result(
    account_a, source, destination, receiver
):
    receiver.responder = fail_times(1)
    recipe = published(account_a, "message.setHeader('X-Recipe', 'v1');", type=Recipe.Type.DESTINATION)
    destination.recipe = recipe
    destination.save()
    _, (outgoing_id,) = process(source)

    deliver_one(outgoing_id)
    Recipe.objects.filter(pk=recipe.pk).update(recipe_published="message.setHeader('X-Recipe', 'v2');")
    deliver_again(outgoing_id)

    assert [request.headers["X-Recipe"] for request in receiver.requests] == ["v1", "v1"]
    assert OutgoingMessage.objects.get(pk=outgoing_id).status == OutgoingMessage.Status.SUCCEEDED


def test_with_run_on_each_attempt_the_recipe_runs_before_every_attempt(
    account_a, source, destination, receiver
):
    receiver.responder = fail_times(1)
    recipe = published(
        account_a,
        "message.setHeader('X-Recipe', 'v1');",
        type=Recipe.Type.DESTINATION,
        run_on_each_attempt=True,
    )
    destination.recipe = recipe
    destination.save()
    _, (outgoing_id,) = process(source)

    deliver_one(outgoing_id)
    Recipe.objects.filter(pk=recipe.pk).update(recipe_published="message.setHeader('X-Recipe', 'v2');")
    deliver_again(outgoing_id)

    assert [request.headers["X-Recipe"] for request in receiver.requests] == ["v1", "v2"]
    assert OutgoingMessage.objects.get(pk=outgoing_id).transformed is None


def test_the_slack_example_is_delivered_form_encoded_to_the_url_it_sets(
    account_a, source, destination, make_receiver
):
    slack = make_receiver(path="/services/T0000/B0000/XXXXXXXX")
    code = SLACK_RECIPE.replace("https://hooks.slack.com/services/T0000/B0000/XXXXXXXX", slack.url)
    destination.recipe = published(account_a, code, type=Recipe.Type.DESTINATION)
    destination.save()
    _, (outgoing_id,) = process(source, body=b'{"event": "user.created", "email": "zoe@example.com"}')

    deliver_one(outgoing_id)

    (request,) = slack.requests
    assert request.path == "/services/T0000/B0000/XXXXXXXX"
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert json.loads(parse_qs(request.body.decode())["payload"][0]) == {
        "text": "New sign-up: zoe@example.com"
    }


def test_a_binary_body_keeps_its_bytes_through_a_stored_destination_recipe(
    account_a, source, destination, receiver
):
    receiver.responder = fail_times(1)
    destination.recipe = published(
        account_a, "message.setHeader('X-Seen', 'yes');", type=Recipe.Type.DESTINATION
    )
    destination.save()
    body = b"\x00\x01binary\xff\x00"
    _, (outgoing_id,) = process(source, body=body)

    deliver_one(outgoing_id)
    deliver_again(outgoing_id)

    assert [request.body for request in receiver.requests] == [body, body]
    assert receiver.requests[1].headers["X-Seen"] == "yes"


def test_a_destination_recipe_that_skips_sends_nothing(account_a, source, destination, receiver):
    destination.recipe = published(account_a, "message.skip();", type=Recipe.Type.DESTINATION)
    destination.save()
    _, (outgoing_id,) = process(source)

    deliver_one(outgoing_id)

    assert receiver.requests == []
    assert OutgoingMessage.objects.get(pk=outgoing_id).status == OutgoingMessage.Status.SKIPPED


def test_a_failing_destination_recipe_is_recorded_and_resend_after_the_fix_delivers(
    owner, source, destination, receiver
):
    recipe = published(owner.account, "\n\nthrow new Error('no route');", type=Recipe.Type.DESTINATION)
    destination.recipe = recipe
    destination.save()
    _, (outgoing_id,) = process(source)

    deliver_one(outgoing_id)

    failed = OutgoingMessage.objects.get(pk=outgoing_id)
    assert failed.status == OutgoingMessage.Status.RECIPE_FAILED
    assert failed.error == "Error: no route (line 3, column 1)"
    assert receiver.requests == []

    Recipe.objects.filter(pk=recipe.pk).update(recipe_published="message.setHeader('X-Fixed', 'yes');")
    response = owner.client.post(
        resend_url(owner.account), {"outgoing_message_ids": [outgoing_id]}, format="json"
    )
    [resend] = response.json()["outgoing_messages"]
    deliver_one(resend["id"])

    (request,) = receiver.requests
    assert request.headers["X-Fixed"] == "yes"
    assert OutgoingMessage.objects.get(pk=resend["id"]).status == OutgoingMessage.Status.SUCCEEDED


def test_a_runaway_destination_recipe_fails_its_message_and_the_next_one_is_delivered(
    account_a, source, destination, receiver
):
    destination.recipe = published(
        account_a,
        "if (message.getBody().event === 'loop') { while (true) {} }",
        type=Recipe.Type.DESTINATION,
    )
    destination.save()
    _, (looping,) = process(source, body=b'{"event": "loop"}')
    _, (normal,) = process(source)

    deliver_one(looping)
    deliver_one(normal)

    assert (
        OutgoingMessage.objects.get(pk=looping).error
        == "The recipe ran longer than its time limit of 100 ms."
    )
    assert OutgoingMessage.objects.get(pk=normal).status == OutgoingMessage.Status.SUCCEEDED
    assert [request.body for request in receiver.requests] == [BODY]


def test_headers_a_destination_recipe_sets_are_sent_whatever_headers_to_include_says(
    account_a, source, destination, receiver
):
    destination.recipe = published(
        account_a, "message.setHeader('X-Tenant', 'a');", type=Recipe.Type.DESTINATION
    )
    destination.save()
    _, (outgoing_id,) = process(source)

    deliver_one(outgoing_id)

    assert destination.headers_to_include == []
    assert receiver.requests[0].headers["X-Tenant"] == "a"
