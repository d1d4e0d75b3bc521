from __future__ import annotations

import pytest

from providers.services import consumer_client_token_issue
from recipes.models import Recipe
from tests.providers.conftest import make_version

pytestmark = pytest.mark.django_db


def test_the_admin_lists_and_shows_providers_and_recipes(operator, owner, application, consumer):
    version = make_version(application)
    _, client_token = consumer_client_token_issue(consumer=consumer)
    recipe = Recipe.objects.create(
        account=owner.account, name="R", type="input", recipe_draft="<draft>", recipe_published="published();"
    )
    pages = {
        "providers/application": application.pk,
        "providers/applicationversion": version.pk,
        "providers/consumer": consumer.pk,
        "providers/clienttoken": client_token.pk,
        "recipes/recipe": recipe.pk,
    }

    for model, pk in pages.items():
        assert operator.get(f"/admin/{model}/").status_code == 200, model
        response = operator.get(f"/admin/{model}/{pk}/change/")
        assert response.status_code == 200, model

    recipe_page = operator.get(f"/admin/recipes/recipe/{recipe.pk}/change/").content.decode()
    assert "&lt;draft&gt;" in recipe_page
    assert "published();" in recipe_page
    token_page = operator.get(f"/admin/providers/clienttoken/{client_token.pk}/change/").content.decode()
    assert client_token.digest in token_page
