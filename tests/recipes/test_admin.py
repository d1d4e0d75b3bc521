"""The recipe editor in the Django admin: draft and published side by side, and a test run of
the draft on its sample code."""

from __future__ import annotations

import pytest
from django.test import Client

from recipes.models import Recipe

pytestmark = pytest.mark.django_db


def make_recipe(account, **fields) -> Recipe:
    values = {
        "name": "Slack",
        "type": "input",
        "sample_code": '{"name": "Zoë"}',
        "recipe_draft": "console.log('hello ' + data.name);\nmessage.setEventType('user.named');",
        "recipe_published": "exit(result);",
        **fields,
    }
    return Recipe.objects.create(account=account, **values)


def test_the_editor_shows_draft_and_published_side_by_side_with_a_test_button(operator, owner):
    recipe = make_recipe(owner.account)

    page = operator.get(f"/admin/recipes/recipe/{recipe.pk}/change/").content.decode()

    assert "console.log(&#x27;hello &#x27; + data.name);" in page
    assert "exit(result);" in page
    assert f"/admin/recipes/recipe/{recipe.pk}/test-draft/" in page


def test_testing_the_draft_shows_the_resulting_message_and_the_logs(operator, owner):
    recipe = make_recipe(owner.account)

    response = operator.get(f"/admin/recipes/recipe/{recipe.pk}/test-draft/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "Resulting message" in page
    assert "user.named" in page
    assert "hello Zoë" in page


def test_testing_a_broken_draft_shows_the_error_with_line_and_column(operator, owner):
    recipe = make_recipe(owner.account, recipe_draft="var a = 1;\nvar b = ;")

    page = operator.get(f"/admin/recipes/recipe/{recipe.pk}/test-draft/").content.decode()

    assert "SyntaxError: Unexpected token &#x27;;&#x27; (line 2, column 9)" in page


def test_testing_an_unknown_recipe_is_404(operator):
    response = operator.get("/admin/recipes/recipe/RE" + "0" * 32 + "/test-draft/")

    assert response.status_code == 404


def test_only_staff_can_test_drafts(owner):
    recipe = make_recipe(owner.account)

    response = Client().get(f"/admin/recipes/recipe/{recipe.pk}/test-draft/")

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
