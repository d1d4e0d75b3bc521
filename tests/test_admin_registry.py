"""Every model of the platform has an admin, and every changelist renders with a search."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib import admin

pytestmark = pytest.mark.django_db

PLATFORM_APPS = [
    "accounts",
    "providers",
    "buckets",
    "inputs",
    "destinations",
    "recipes",
    "deliveries",
    "webhooks",
]
MODELS = [model for app in PLATFORM_APPS for model in apps.get_app_config(app).get_models()]


@pytest.mark.parametrize("model", MODELS, ids=lambda model: model._meta.label)
def test_every_model_has_an_admin_whose_changelist_renders(operator, model):
    assert admin.site.is_registered(model), f"{model._meta.label} has no admin"

    meta = model._meta
    response = operator.get(f"/admin/{meta.app_label}/{meta.model_name}/", {"q": "x"})

    assert response.status_code == 200
