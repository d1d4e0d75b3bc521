"""The tenancy matrix: every route under ``/v1/accounts/<account_id>``, present and future, with
every method its view handles, against every kind of principal that must not get through.

Routes are read from the URLconf, so a new route is covered as soon as it exists; a route with
a path kwarg the world cannot fill fails until ``tests/support/world.py`` learns it. Bodies are
``{}``: tenancy and permissions must answer before validation.
"""

from __future__ import annotations

import json

import pytest
from rest_framework.permissions import SAFE_METHODS
from rest_framework.permissions import AllowAny as DrfAllowAny
from rest_framework.test import APIClient

from core.permissions import AllowAny
from providers.models import Consumer
from providers.services import consumer_client_token_issue
from tests.conftest import Actor, error_code, make_actor
from tests.factories import make_account
from tests.support.world import NON_OBJECT_KWARGS, Route, World, account_routes, build_world, snapshot

pytestmark = pytest.mark.django_db

# Routes that answer anonymous requests by design, because the request carries its own proof.
PUBLIC_BY_DESIGN = frozenset(
    {
        "/v1/accounts/<account_id>/users/<user_id>/change_password",  # change_key from the email
    }
)
# "METHOD /route" pairs a viewer may call although the method is not safe (read-only actions).
VIEWER_ACTIONS_BY_DESIGN = frozenset(
    {
        "POST /v1/accounts/<account_id>/applications/<application_id>/consumers/<consumer_id>/check/<bucket_key>",
        "POST /v1/accounts/<account_id>/applications/<application_id>/consumers/<consumer_id>/check",
    }
)

ROUTES = account_routes()


def is_public(route: Route) -> bool:
    view = route.view_class
    return not view.authentication_classes or any(
        issubclass(permission, (AllowAny, DrfAllowAny)) for permission in view.permission_classes
    )


def is_viewer_action(route: Route, method: str) -> bool:
    return method not in SAFE_METHODS and getattr(route.view_class, "write_level", "developer") == "viewer"


def cases(*, writes_only: bool = False, with_objects: bool = False) -> list:
    """(route, method) params; only non-safe methods, or only routes with object kwargs."""
    params = []
    for route in ROUTES:
        if with_objects and not set(route.kwargs) - NON_OBJECT_KWARGS:
            continue
        for method in route.methods:
            label = f"{method} {route.template}"
            if writes_only and (method in SAFE_METHODS or label in VIEWER_ACTIONS_BY_DESIGN):
                continue
            params.append(pytest.param(route, method, id=label))
    return params


def kwargs_in(world: World, route: Route) -> dict[str, str]:
    try:
        return world.kwargs_for(route)
    except LookupError as exc:
        pytest.fail(str(exc))


def url_in(world: World, route: Route, **overrides: str) -> str:
    return route.url({**kwargs_in(world, route), **overrides})


def call(client, method: str, url: str):
    if method == "GET":
        return client.get(url)
    return client.generic(method, url, json.dumps({}), content_type="application/json")


def assert_refused(client, method: str, url: str, status: int) -> None:
    """The request answers ``status`` in the error shape and changes no row anywhere."""
    before = snapshot()

    response = call(client, method, url)

    assert response.status_code == status, (
        f"{method} {url} answered {response.status_code}, not {status}: {response.content[:300]!r}"
    )
    error_code(response)
    assert snapshot() == before, f"{method} {url} answered {status} but changed data"


@pytest.fixture
def world_a(owner: Actor) -> World:
    return build_world(account=owner.account, user=owner.user, label="a")


@pytest.fixture
def world_b(outsider: Actor) -> World:
    return build_world(account=outsider.account, user=outsider.user, label="b")


@pytest.fixture
def world_sub(sub_owner: Actor) -> World:
    return build_world(account=sub_owner.account, user=sub_owner.user, label="sub")


@pytest.fixture
def sibling_owner(account_a) -> Actor:
    return make_actor(make_account(name="Sibling of A", parent=account_a, account_key="sibling-a"), "owner")


def test_the_matrix_walks_the_urlconf_including_the_bucket_routes():
    templates = {route.template for route in ROUTES}

    assert "/v1/accounts/<account_id>/buckets" in templates
    assert "/v1/accounts/<account_id>/buckets/<bucket_id>" in templates


def test_the_public_routes_are_exactly_the_ones_public_by_design():
    existing = {route.template for route in ROUTES}

    public = {route.template for route in ROUTES if is_public(route)}

    assert public == PUBLIC_BY_DESIGN & existing


def test_the_writes_open_to_viewers_are_exactly_the_read_only_actions_by_design():
    existing = {f"{method} {route.template}" for route in ROUTES for method in route.methods}

    open_to_viewers = {
        f"{method} {route.template}"
        for route in ROUTES
        for method in route.methods
        if is_viewer_action(route, method)
    }

    assert open_to_viewers == VIEWER_ACTIONS_BY_DESIGN & existing


@pytest.mark.parametrize(("route", "method"), cases())
def test_the_owner_reaches_every_route_of_the_world(owner, world_a, route, method):
    """The control: the world's ids are real, so the 404s below are isolation, not typos."""
    response = call(owner.client, method, url_in(world_a, route))

    assert response.status_code != 404, response.content[:300]
    assert response.status_code < 500, response.content[:300]


@pytest.mark.parametrize(("route", "method"), cases())
def test_an_outsider_gets_404_and_changes_nothing(outsider, world_a, route, method):
    assert_refused(outsider.client, method, url_in(world_a, route), 404)


@pytest.mark.parametrize(("route", "method"), cases(with_objects=True))
def test_foreign_object_ids_in_the_own_account_path_are_404(owner, world_a, world_b, route, method):
    foreign = kwargs_in(world_b, route)
    for kwarg in sorted(set(route.kwargs) - NON_OBJECT_KWARGS):
        assert_refused(owner.client, method, url_in(world_a, route, **{kwarg: foreign[kwarg]}), 404)


@pytest.mark.parametrize(("route", "method"), cases())
def test_odd_values_in_any_kwarg_never_fail_the_server(owner, world_a, route, method):
    """A NUL byte or a huge value in any kwarg: 404 where it names an object, never a 500."""
    for kwarg in route.kwargs:
        for odd in ("%00", "X" * 3000):
            url = url_in(world_a, route, **{kwarg: odd})
            if kwarg == "account_id" or kwarg not in NON_OBJECT_KWARGS:
                assert_refused(owner.client, method, url, 404)
            else:
                response = call(owner.client, method, url)
                assert response.status_code < 500, f"{method} {url}: {response.content[:300]!r}"


@pytest.mark.parametrize(("route", "method"), cases())
def test_a_sub_account_owner_gets_404_on_the_parent(sub_owner, world_a, route, method):
    assert_refused(sub_owner.client, method, url_in(world_a, route), 404)


@pytest.mark.parametrize(("route", "method"), cases())
def test_a_sibling_sub_account_owner_gets_404(sibling_owner, world_sub, route, method):
    assert_refused(sibling_owner.client, method, url_in(world_sub, route), 404)


@pytest.mark.parametrize(("route", "method"), cases(writes_only=True))
def test_a_viewer_gets_403_on_every_write(viewer, world_a, route, method):
    url = url_in(world_a, route)
    if route.template not in PUBLIC_BY_DESIGN:
        assert_refused(viewer.client, method, url, 403)
        return
    # A public route's permission is its body's proof (a change key, the user's own password),
    # so an empty body is refused for the missing proof, 400, or as a foreign user's, 403.
    before = snapshot()

    response = call(viewer.client, method, url)

    assert response.status_code in (400, 403), response.content[:300]
    error_code(response)
    assert snapshot() == before


@pytest.mark.parametrize(("route", "method"), cases())
def test_anonymous_gets_401_except_on_public_routes(anon, world_a, route, method):
    url = url_in(world_a, route)
    if route.template not in PUBLIC_BY_DESIGN:
        assert_refused(anon, method, url, 401)
        return
    before = snapshot()

    response = call(anon, method, url)

    assert response.status_code not in (401, 404), response.content[:300]
    assert 400 <= response.status_code < 500, response.content[:300]
    error_code(response)
    assert snapshot() == before


# A client token (an embedded view's) reaches its consumer's sub-account only, on its paths.


def client_token_client(world: World, **fields) -> tuple[APIClient, str]:
    """A client authenticated with a client token of the world's consumer, and the id of the
    consumer's sub-account."""
    consumer = Consumer.objects.get(consumer_id=world.values["consumer_id"])
    token, _ = consumer_client_token_issue(
        consumer=consumer, bucket_key=world.consumer_values["bucket_key"], **fields
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"client-token-bearer {token}")
    return client, consumer.sub_account_id


@pytest.mark.parametrize(("route", "method"), cases())
def test_a_client_token_gets_404_on_the_providers_account(world_a, route, method):
    client, _ = client_token_client(world_a)

    assert_refused(client, method, url_in(world_a, route), 404)


@pytest.mark.parametrize(("route", "method"), cases())
def test_a_client_token_gets_404_on_another_consumers_account(world_a, world_sub, route, method):
    """world_sub's consumer is a sibling of world_a's: both are sub-accounts under A."""
    client, _ = client_token_client(world_a)
    other = Consumer.objects.get(consumer_id=world_sub.values["consumer_id"]).sub_account_id

    assert_refused(client, method, url_in(world_a, route, account_id=other), 404)


@pytest.mark.parametrize(("route", "method"), cases())
def test_a_client_token_gets_403_outside_its_paths(world_a, route, method):
    client, own_account = client_token_client(world_a, paths=["embedded/*"])

    assert_refused(client, method, url_in(world_a, route, account_id=own_account), 403)
