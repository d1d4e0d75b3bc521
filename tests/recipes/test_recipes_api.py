from __future__ import annotations

import pytest

from recipes.models import Recipe
from tests.conftest import error_code

pytestmark = pytest.mark.django_db

EXAMPLE = {
    "name": "My Recipe",
    "type": "input",
    "notes": "This is used to transform the payload to work with Slack webhooks.",
    "recipe_draft": "return { x: 1, x: 2 };",
    "run_on_each_attempt": "true",
}


def url(account, recipe_id: str | None = None, action: str = "") -> str:
    base = f"/v1/accounts/{account.id}/recipes"
    if recipe_id:
        base = f"{base}/{recipe_id}"
    return f"{base}/{action}" if action else base


def make_recipe(account, **fields) -> Recipe:
    values = {"name": "R", "type": "destination", "recipe_draft": "exit(result);", **fields}
    return Recipe.objects.create(account=account, **values)


def test_it_creates_a_recipe_from_the_reference_example(owner):
    response = owner.client.post(url(owner.account), EXAMPLE, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["id"].startswith("RE")
    assert len(body["id"]) == 34
    assert body["account_id"] == owner.account.id
    assert body["type"] == "input"
    assert body["recipe_draft"] == "return { x: 1, x: 2 };"
    assert body["run_on_each_attempt"] is True
    assert body["recipe_published"] == ""
    assert body["published_at"] is None
    assert {"created", "updated", "notes", "sample_code"} <= set(body)


def test_it_accepts_form_encoded_bodies(developer):
    response = developer.client.post(url(developer.account), EXAMPLE)

    assert response.status_code == 201, response.content
    assert response.json()["run_on_each_attempt"] is True


def test_it_keeps_code_whitespace_byte_for_byte(owner):
    draft = "  function wh(){\n\texit(result);\n}\n"

    response = owner.client.post(url(owner.account), {**EXAMPLE, "recipe_draft": draft}, format="json")

    assert response.status_code == 201
    assert Recipe.objects.get(pk=response.json()["id"]).recipe_draft == draft


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "x", "type": "input"}, "recipe_draft"),
        ({"name": "x", "recipe_draft": "exit(result);"}, "type"),
        ({"name": "x", "type": "output", "recipe_draft": "exit(result);"}, "type"),
        ({"type": "input", "recipe_draft": "exit(result);"}, "name"),
        ({"name": "x", "type": "input", "recipe_draft": "x" * (100 * 1024 + 1)}, "recipe_draft"),
        ({**EXAMPLE, "run_on_each_attempt": "maybe"}, "run_on_each_attempt"),
    ],
)
def test_it_rejects_invalid_recipes_in_the_error_shape(owner, payload, field):
    response = owner.client.post(url(owner.account), payload, format="json")

    assert response.status_code == 400
    assert error_code(response) == "validation_error"
    assert field in response.json()["error"]["fields"]
    assert not Recipe.objects.exists()


def test_it_accepts_a_draft_of_exactly_100_kib(owner):
    response = owner.client.post(
        url(owner.account), {**EXAMPLE, "recipe_draft": "x" * (100 * 1024)}, format="json"
    )

    assert response.status_code == 201


def test_it_lists_only_the_accounts_recipes_filtered_by_type(owner, outsider):
    mine_input = make_recipe(owner.account, type="input")
    mine_destination = make_recipe(owner.account, type="destination")
    make_recipe(outsider.account, type="input")

    everything = owner.client.get(url(owner.account))
    inputs = owner.client.get(url(owner.account), {"type": "input"})
    bad_type = owner.client.get(url(owner.account), {"type": "sideways"})

    assert [r["id"] for r in everything.json()["results"]] == [mine_input.id, mine_destination.id]
    assert [r["id"] for r in inputs.json()["results"]] == [mine_input.id]
    assert bad_type.status_code == 400
    assert error_code(bad_type) == "validation_error"


def test_it_gets_a_recipe(viewer):
    recipe = make_recipe(viewer.account)

    response = viewer.client.get(url(viewer.account, recipe.id))

    assert response.status_code == 200
    assert response.json()["id"] == recipe.id


def test_it_updates_with_the_reference_example(owner):
    recipe = make_recipe(owner.account, type="input")
    update = {key: value for key, value in EXAMPLE.items() if key != "type"}

    response = owner.client.put(url(owner.account, recipe.id), {**update, "name": "Renamed"}, format="json")

    assert response.status_code == 200, response.content
    recipe.refresh_from_db()
    assert recipe.name == "Renamed"
    assert recipe.recipe_draft == EXAMPLE["recipe_draft"]
    assert recipe.run_on_each_attempt is True


def test_it_updates_partially(owner):
    recipe = make_recipe(owner.account, notes="keep me")

    response = owner.client.put(url(owner.account, recipe.id), {"name": "Only the name"})

    assert response.status_code == 200
    recipe.refresh_from_db()
    assert (recipe.name, recipe.notes) == ("Only the name", "keep me")


def test_it_refuses_to_change_the_type(owner):
    recipe = make_recipe(owner.account, type="input")

    changed = owner.client.put(url(owner.account, recipe.id), {"type": "destination"}, format="json")
    same = owner.client.put(url(owner.account, recipe.id), {"type": "input"}, format="json")

    assert changed.status_code == 400
    assert "type" in changed.json()["error"]["fields"]
    assert same.status_code == 200
    recipe.refresh_from_db()
    assert recipe.type == "input"


def test_it_publishes_the_draft_and_keeps_it(owner):
    recipe = make_recipe(owner.account, recipe_draft="v1", recipe_published="v0")

    response = owner.client.post(url(owner.account, recipe.id, "publish"))

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["recipe_published"] == "v1"
    assert body["recipe_draft"] == "v1"
    assert body["published_at"] is not None
    recipe.refresh_from_db()
    assert recipe.recipe_published == "v1"
    assert recipe.published_at is not None


def test_editing_the_draft_does_not_change_the_published_code(owner):
    recipe = make_recipe(owner.account, recipe_draft="v1")
    owner.client.post(url(owner.account, recipe.id, "publish"))

    owner.client.put(url(owner.account, recipe.id), {"recipe_draft": "v2"}, format="json")

    recipe.refresh_from_db()
    assert (recipe.recipe_draft, recipe.recipe_published) == ("v2", "v1")


def test_it_deletes(owner):
    recipe = make_recipe(owner.account)

    response = owner.client.delete(url(owner.account, recipe.id))

    assert response.status_code == 204
    assert not Recipe.objects.filter(pk=recipe.id).exists()


def test_it_rejects_foreign_recipe(owner, outsider):
    theirs = make_recipe(outsider.account)

    assert owner.client.get(url(owner.account, theirs.id)).status_code == 404
    assert owner.client.get(url(outsider.account, theirs.id)).status_code == 404
    assert owner.client.post(url(owner.account, theirs.id, "publish")).status_code == 404
    assert owner.client.put(url(owner.account, theirs.id), {"name": "x"}, format="json").status_code == 404
    assert owner.client.delete(url(owner.account, theirs.id)).status_code == 404
    assert Recipe.objects.get(pk=theirs.id).name == "R"


def test_a_parent_sees_its_sub_accounts_recipes_but_not_the_reverse(owner, sub_owner):
    parents = make_recipe(owner.account)
    subs = make_recipe(sub_owner.account)

    assert owner.client.get(url(sub_owner.account, subs.id)).status_code == 200
    assert sub_owner.client.get(url(owner.account, parents.id)).status_code == 404


def test_a_viewer_cannot_write(viewer):
    recipe = make_recipe(viewer.account)

    created = viewer.client.post(url(viewer.account), EXAMPLE, format="json")
    published = viewer.client.post(url(viewer.account, recipe.id, "publish"))
    updated = viewer.client.put(url(viewer.account, recipe.id), {"name": "x"}, format="json")
    deleted = viewer.client.delete(url(viewer.account, recipe.id))

    for response in (created, published, updated, deleted):
        assert response.status_code == 403
        assert error_code(response) == "permission_denied"
    recipe.refresh_from_db()
    assert recipe.published_at is None


def test_unknown_ids_answer_404_and_the_test_path_is_never_taken_for_an_id(owner):
    unknown = owner.client.get(url(owner.account, "REnot-an-id"))
    test_path = owner.client.get(url(owner.account, "test"))

    assert unknown.status_code == 404
    assert error_code(unknown) == "not_found"
    assert test_path.status_code == 405  # the test endpoint, which only runs (PUT)


def test_a_missing_token_is_401(anon, account_a):
    response = anon.get(url(account_a))

    assert response.status_code == 401
    assert error_code(response) == "not_authenticated"
