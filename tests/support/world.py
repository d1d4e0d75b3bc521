"""A "world": one object of every kind owned by an account, and the URL kwargs naming them.

The cross-cutting suites fill every route's path kwargs from a world, so a route is reached
with real ids. Objects are made with the ORM (plus ``account_create`` for sub-accounts) so the
world does not depend on services other helpers are still writing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from django.apps import apps
from django.conf import settings
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RegexPattern, RoutePattern

from accounts.models import Account, User
from accounts.services import account_create
from buckets.models import Bucket
from deliveries.models import Attempt, Certificate, IncomingMessage, OutgoingMessage
from destinations.models import Destination
from inputs.models import Input
from providers.models import Application, ApplicationVersion, Consumer
from recipes.models import Recipe
from webhooks.models import TriggerWebhook

ROUTE_KWARG = re.compile(r"<(?:\w+:)?(\w+)>")
TEMPLATE_KWARG = re.compile(r"<(\w+)>")
REGEX_GROUP = re.compile(r"\(\?P<(\w+)>")
# Kwargs that are not object ids: a foreign value names nothing foreign (bucket keys are
# arbitrary and mapped to buckets on demand).
NON_OBJECT_KWARGS = frozenset({"account_id", "bucket_key"})
# Refused at once on loopback, so a route that delivers never waits on the network.
UNREACHABLE_URL = "http://127.0.0.1:9/hook"


def pattern_template(pattern: RoutePattern | RegexPattern) -> str:
    """``path()`` and ``re_path()`` patterns alike as ``accounts/<account_id>/recipes/<recipe_id>``."""
    if isinstance(pattern, RoutePattern):
        return ROUTE_KWARG.sub(r"<\1>", str(pattern))
    regex = str(pattern).removeprefix("^").removesuffix("$").removesuffix(r"\Z")
    parts, position = [], 0
    while match := REGEX_GROUP.search(regex, position):
        parts.append(regex[position : match.start()])
        depth, position = 1, match.end()
        while depth:
            char = regex[position]
            position += 2 if char == "\\" else 1
            depth += {"(": 1, ")": -1}.get(char, 0)
        parts.append(f"<{match.group(1)}>")
    parts.append(regex[position:])
    return re.sub(r"\\(.)", r"\1", "".join(parts))


@dataclass(frozen=True)
class Route:
    """One URL pattern as a template (``/v1/accounts/<account_id>/buckets``) and its view."""

    template: str
    view_class: type

    @property
    def kwargs(self) -> list[str]:
        return TEMPLATE_KWARG.findall(self.template)

    @property
    def methods(self) -> list[str]:
        handlers = [
            name
            for name in self.view_class.http_method_names
            if name not in ("options", "head") and hasattr(self.view_class, name)
        ]
        return [name.upper() for name in handlers]

    def url(self, values: dict[str, str]) -> str:
        return TEMPLATE_KWARG.sub(lambda m: values[m.group(1)], self.template)


def iter_routes(resolver: URLResolver | None = None, prefix: str = "/") -> Iterator[Route]:
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        template = prefix + pattern_template(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from iter_routes(entry, template)
        elif isinstance(entry, URLPattern):
            view_class = getattr(entry.callback, "cls", None) or getattr(entry.callback, "view_class", None)
            if view_class is not None:
                yield Route(template=template, view_class=view_class)


def account_routes() -> list[Route]:
    """Every class-based route under an account, with the methods its view handles."""
    return [route for route in iter_routes() if "account_id" in route.kwargs and route.methods]


@dataclass
class World:
    """kwarg -> value, and the consumer-scoped overrides: a consumer's destinations, buckets and
    inputs live on the consumer's sub-account."""

    values: dict[str, str]
    consumer_values: dict[str, str]

    def kwargs_for(self, route: Route) -> dict[str, str]:
        known = {**self.values, **(self.consumer_values if "consumer_id" in route.kwargs else {})}
        missing = [name for name in route.kwargs if name not in known]
        if missing:
            raise LookupError(
                f"add a world object for kwarg {missing[0]!r} (route {route.template}) in tests/support/world.py"
            )
        return {name: known[name] for name in route.kwargs}


def build_world(*, account: Account, user: User, label: str) -> World:
    """One of everything for ``account``; ``label`` keeps keys and consumer ids unique per world."""
    bucket = Bucket.objects.create(account=account, name=f"Orders {label}", key=f"orders-{label}")
    recipe = Recipe.objects.create(
        account=account, name=f"Recipe {label}", type=Recipe.Type.INPUT, recipe_draft="exit(result);"
    )
    input_ = Input.objects.create(account=account, bucket=bucket, name=f"Input {label}", key=f"in-{label}")
    destination = Destination.objects.create(
        account=account,
        input=input_,
        name=f"Destination {label}",
        endpoint_url=UNREACHABLE_URL,
        secret=f"whsec_{label}",
    )
    application = Application.objects.create(account=account, name=f"App {label}")
    version = ApplicationVersion.objects.create(
        account=account, application=application, key="1.0", version_json={"events": ["order.created"]}
    )
    consumer_account = account_create(name=f"Consumer {label}", plan=account.plan, parent=account)
    consumer = Consumer.objects.create(
        account=account,
        application=application,
        consumer_id=f"customer-{label}",
        name=f"Customer {label}",
        sub_account=consumer_account,
    )
    consumer_bucket = Bucket.objects.create(account=consumer_account, name=label, key=f"orders-{label}")
    consumer_input = Input.objects.create(
        account=consumer_account, bucket=consumer_bucket, name=f"{application.name} input"
    )
    consumer_destination = Destination.objects.create(
        account=consumer_account,
        input=consumer_input,
        name=f"Consumer destination {label}",
        endpoint_url=UNREACHABLE_URL,
        secret=f"whsec_c{label}",
    )
    incoming = IncomingMessage.objects.create(
        account=account,
        bucket=bucket,
        input=input_,
        status=IncomingMessage.Status.PROCESSED,
        method="POST",
        path=f"/v1/{input_.key}/{input_.id}",
        body=b'{"order": 1}',
        content_type="application/json",
    )
    outgoing = OutgoingMessage.objects.create(
        account=account,
        incoming=incoming,
        destination=destination,
        status=OutgoingMessage.Status.FAILED,
        received_at=incoming.created,
        attempt_count=1,
    )
    attempt = Attempt.objects.create(
        account=account,
        outgoing=outgoing,
        number=1,
        request_method="POST",
        request_url=UNREACHABLE_URL,
        succeeded=False,
        error_kind="connection",
    )
    trigger_destination = Destination.objects.create(
        account=account,
        input=input_,
        feed=Destination.Feed.TRIGGER,
        name=f"Trigger {label}",
        endpoint_url=UNREACHABLE_URL,
        secret=f"whsec_t{label}",
    )
    trigger = TriggerWebhook.objects.create(
        account=account, name=f"trigger-{label}", destination=trigger_destination
    )
    invocation = OutgoingMessage.objects.create(
        account=account,
        incoming=incoming,
        destination=trigger_destination,
        status=OutgoingMessage.Status.FAILED,
        received_at=incoming.created,
        attempt_count=1,
    )
    Attempt.objects.create(
        account=account,
        outgoing=invocation,
        number=1,
        request_method="POST",
        request_url=UNREACHABLE_URL,
        succeeded=False,
        error_kind="connection",
    )
    certificate = Certificate.objects.create(
        account=account,
        domain=f"{label}.example.com",
        pem="-----BEGIN CERTIFICATE-----",
        fingerprint_sha256="0" * 64,
    )
    return World(
        values={
            "account_id": account.id,
            "user_id": user.id,
            "bucket_id": bucket.id,
            "bucket_key": bucket.key,
            "input_id": input_.id,
            "destination_id": destination.id,
            "recipe_id": recipe.id,
            "application_id": application.id,
            "application_version_id": version.id,
            "consumer_id": consumer.consumer_id,
            "incoming_message_id": incoming.id,
            "outgoing_message_id": outgoing.id,
            "attempt_id": attempt.id,
            "certificate_id": certificate.certificate_id,
            "trigger_webhook_id": trigger.name,
            "reference_id": invocation.id,
        },
        consumer_values={
            "bucket_id": consumer_bucket.id,
            "bucket_key": consumer_bucket.key,
            "input_id": consumer_input.id,
            "destination_id": consumer_destination.id,
        },
    )


def snapshot() -> dict[str, list[dict]]:
    """Every row of the platform's tables, to prove a refused request changed nothing.

    ``ApiToken.last_used`` is left out: authenticating a request legitimately touches it."""
    rows: dict[str, list[dict]] = {}
    for app_label in settings.PROJECT_APPS:
        for model in apps.get_app_config(app_label).get_models():
            values = list(model.objects.order_by("pk").values())
            for row in values:
                row.pop("last_used", None)
            rows[model._meta.label] = values
    return rows
