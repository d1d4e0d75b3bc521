from __future__ import annotations

import base64

import pytest

from inputs.authentication_options import (
    DESTINATION_AUTHENTICATION,
    INPUT_AUTHENTICATION,
    new_signing_secret,
    validate_authentication_options,
)


def errors_of(auth_type, options) -> list[str]:
    with pytest.raises(ValueError, match=r".") as caught:
        validate_authentication_options(auth_type, options)
    return caught.value.args[0]


def test_a_signing_secret_is_whsec_and_24_random_bytes():
    secret = new_signing_secret()

    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 24
    assert new_signing_secret() != secret


def test_it_fills_defaults_and_keeps_given_values():
    options = validate_authentication_options(
        INPUT_AUTHENTICATION["token"], {"name": "token", "value": "abc", "location": "query"}
    )

    assert options == {"location": "query", "name": "token", "value": "abc"}


def test_a_blank_value_counts_as_omitted():
    options = validate_authentication_options(
        INPUT_AUTHENTICATION["hmac"], {"header": "X-Sig", "secret": "s", "algorithm": ""}
    )

    assert options["algorithm"] == "sha256"


def test_it_coerces_integer_options_given_as_strings():
    options = validate_authentication_options(
        INPUT_AUTHENTICATION["standard_webhooks"],
        {"secret": new_signing_secret(), "tolerance_seconds": "600"},
    )

    assert options["tolerance_seconds"] == 600


@pytest.mark.parametrize("value", [0, 86401, 1.5, True, "soon", float("inf")])
def test_it_rejects_bad_integers(value):
    errors = errors_of(INPUT_AUTHENTICATION["standard_webhooks"], {"tolerance_seconds": value})

    assert errors[0].startswith("tolerance_seconds: ")


def test_it_reports_every_problem_by_option():
    errors = errors_of(DESTINATION_AUTHENTICATION["header"], {"name": "X Bad", "colour": "red"})

    assert errors == [
        "colour: Unknown option for 'header'.",
        "name: Must be a valid HTTP header name.",
        "value: This option is required.",
    ]


@pytest.mark.parametrize("value", ["a\r\nX-Injected: 1", "nul\x00", 42])
def test_string_options_must_be_single_line_strings(value):
    errors = errors_of(DESTINATION_AUTHENTICATION["bearer"], {"token": value})

    assert errors[0].startswith("token: ")


@pytest.mark.parametrize("secret", ["whsec_short", "secret_" + "A" * 32, "whsec_!!!!"])
def test_a_standard_webhooks_secret_must_be_well_formed(secret):
    errors = errors_of(INPUT_AUTHENTICATION["standard_webhooks"], {"secret": secret})

    assert errors[0].startswith("secret: ")
