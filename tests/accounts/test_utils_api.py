from __future__ import annotations

import zoneinfo

import pytest

from tests.conftest import error_code

pytestmark = pytest.mark.django_db


def test_health_is_ok_with_the_database_and_the_redis_broker(anon, settings):
    assert settings.CELERY_BROKER_URL.startswith("redis://")

    response = anon.get("/v1/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}


def test_health_is_503_when_the_broker_is_down(anon, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1

    response = anon.get("/v1/health")

    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "ok", "broker": "error"}


def test_health_ignores_a_bad_token(anon):
    anon.credentials(HTTP_AUTHORIZATION="Bearer nonsense")

    assert anon.get("/v1/health").status_code == 200


def test_it_lists_the_public_plans_in_order(anon):
    response = anon.get("/v1/plans")

    assert response.status_code == 200
    plans = response.json()["results"]
    assert [plan["id"] for plan in plans] == ["free", "starter", "pro", "enterprise"]
    assert plans[0]["max_sub_accounts"] == 10


def test_it_gets_a_plan(anon):
    response = anon.get("/v1/plans/starter")

    assert response.status_code == 200
    assert response.json()["name"] == "Starter"


def test_an_unknown_plan_is_404(anon):
    response = anon.get("/v1/plans/platinum")

    assert response.status_code == 404
    assert error_code(response) == "not_found"


def test_it_lists_the_timezones_sorted(anon):
    response = anon.get("/v1/util/timezones")

    assert response.status_code == 200
    zones = response.json()
    assert zones == sorted(zoneinfo.available_timezones())
    assert "Etc/GMT" in zones
    assert "Etc/GTM" not in zones
