from __future__ import annotations

import pytest

from providers.models import Application, ApplicationVersion
from providers.services import consumer_create

VERSION_JSON = {
    "events": [
        {"name": "invoice.created", "description": "An invoice was created."},
        {"name": "invoice.paid", "description": "An invoice was paid."},
        {"name": "customer.deleted", "description": "A customer was deleted."},
    ]
}


def make_application(account, **fields) -> Application:
    return Application.objects.create(account=account, **{"name": "Billing", **fields})


def make_version(application, **fields) -> ApplicationVersion:
    values = {"key": "1.0", "version_json": VERSION_JSON, **fields}
    return ApplicationVersion.objects.create(account=application.account, application=application, **values)


@pytest.fixture
def application(owner) -> Application:
    return make_application(owner.account)


@pytest.fixture
def consumer(application):
    return consumer_create(application=application, consumer_id="acme-42", name="ACME Corp, Inc.")
