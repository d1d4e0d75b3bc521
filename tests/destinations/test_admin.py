from __future__ import annotations

import pytest
from django.test import Client

from destinations.models import Destination
from tests.routing_factories import DestinationFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/destinations/destination/"


def run_action(client: Client, action: str, destinations) -> None:
    response = client.post(CHANGELIST, {"action": action, "_selected_action": [d.pk for d in destinations]})
    assert response.status_code == 302, response.content[:300]


def test_the_changelists_render_with_search_and_filters(operator, account_a):
    destination = DestinationFactory(account=account_a)

    destinations = operator.get(CHANGELIST, {"q": destination.name, "status__exact": "active"})
    inputs = operator.get("/admin/inputs/input/", {"q": destination.input.name, "type__exact": "static"})

    assert destinations.status_code == 200
    assert destination.id in destinations.content.decode()
    assert inputs.status_code == 200
    assert destination.input_id in inputs.content.decode()


def test_an_operator_disables_and_enables_destinations(operator, account_a):
    destination = DestinationFactory(account=account_a)

    run_action(operator, "disable", [destination])
    destination.refresh_from_db()
    assert (destination.status, destination.disabled_reason) == ("disabled", "Disabled by an operator.")

    run_action(operator, "enable", [destination])
    destination.refresh_from_db()
    assert (destination.status, destination.disabled_reason) == (Destination.Status.ACTIVE, "")


def test_an_operator_rotates_a_secret(operator, account_a):
    destination = DestinationFactory(account=account_a)
    old_secret = destination.secret

    run_action(operator, "rotate_secret", [destination])

    destination.refresh_from_db()
    assert destination.secret != old_secret
    assert destination.previous_secret == old_secret
