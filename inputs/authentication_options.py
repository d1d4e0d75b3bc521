"""The catalogue of authentication types: incoming (how senders authenticate to an input) and
outgoing (how the platform authenticates to a destination), each with its options.

``GET /v1/gateway/authentication/<input|destination>`` serves it, and
``validate_authentication_options`` checks a resource's options against it."""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

# RFC 9110 token: what a header name may contain.
HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")
SIGNING_SECRET_PREFIX = "whsec_"


def new_signing_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` + base64 of 24 random bytes."""
    return SIGNING_SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def _header_name(value: str) -> str:
    if not HEADER_NAME.match(value):
        raise ValueError("Must be a valid HTTP header name.")
    return value


def _signing_secret(value: str) -> str:
    try:
        key = base64.b64decode(value.removeprefix(SIGNING_SECRET_PREFIX), validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if not value.startswith(SIGNING_SECRET_PREFIX) or not 24 <= len(key) <= 64:
        raise ValueError("Must be 'whsec_' followed by the base64 of 24 to 64 bytes.")
    return value


@dataclass(frozen=True)
class Option:
    name: str
    description: str
    type: str = "string"  # "string" or "integer"
    required: bool = False
    default: str | int | None = None
    choices: tuple[str, ...] = ()
    min_value: int | None = None
    max_value: int | None = None
    # Extra check of a string value; raises ValueError with the message to show.
    check: Callable[[str], str] | None = field(default=None, repr=False)
    # Fills the value when omitted (e.g. a generated secret).
    generate: Callable[[], str] | None = field(default=None, repr=False)


@dataclass(frozen=True)
class AuthenticationType:
    name: str
    description: str
    options: tuple[Option, ...] = ()


def _catalogue(*types: AuthenticationType) -> dict[str, AuthenticationType]:
    return {auth_type.name: auth_type for auth_type in types}


INPUT_AUTHENTICATION = _catalogue(
    AuthenticationType("none", "No authentication: every request is accepted."),
    AuthenticationType(
        "basic",
        "HTTP Basic authentication.",
        (
            Option("username", "The expected user name.", required=True),
            Option("password", "The expected password.", required=True),
        ),
    ),
    AuthenticationType(
        "token",
        "A shared token sent in a header or a query parameter.",
        (
            Option(
                "location",
                "Where the token is sent.",
                default="header",
                choices=("header", "query"),
            ),
            Option("name", "The header or query parameter carrying the token.", required=True),
            Option("value", "The expected token.", required=True),
        ),
    ),
    AuthenticationType(
        "hmac",
        "An HMAC signature of the request in a header (GitHub, Shopify, Stripe style).",
        (
            Option(
                "header",
                "The header carrying the signature (e.g. X-Hub-Signature-256).",
                required=True,
                check=_header_name,
            ),
            Option(
                "algorithm",
                "The hash algorithm.",
                default="sha256",
                choices=("sha1", "sha256", "sha512"),
            ),
            Option("encoding", "How the digest is encoded.", default="hex", choices=("hex", "base64")),
            Option("prefix", "A prefix before the digest in the header (e.g. 'sha256=').", default=""),
            Option("secret", "The shared signing secret.", required=True),
            Option(
                "signed_content",
                "What is signed: the body, or the full URL followed by the body.",
                default="body",
                choices=("body", "url_body"),
            ),
        ),
    ),
    AuthenticationType(
        "standard_webhooks",
        "Standard Webhooks signatures (webhook-id, webhook-timestamp, webhook-signature).",
        (
            Option(
                "secret",
                "The signing secret ('whsec_...'); generated when omitted.",
                check=_signing_secret,
                generate=new_signing_secret,
            ),
            Option(
                "tolerance_seconds",
                "How far webhook-timestamp may be from now.",
                type="integer",
                default=300,
                min_value=1,
                max_value=86400,
            ),
        ),
    ),
)

DESTINATION_AUTHENTICATION = _catalogue(
    AuthenticationType("none", "No authentication is added to deliveries."),
    AuthenticationType(
        "basic",
        "HTTP Basic authentication on every delivery.",
        (
            Option("username", "The user name.", required=True),
            Option("password", "The password.", required=True),
        ),
    ),
    AuthenticationType(
        "bearer",
        "An 'Authorization: Bearer <token>' header on every delivery.",
        (Option("token", "The bearer token.", required=True),),
    ),
    AuthenticationType(
        "header",
        "A custom header on every delivery.",
        (
            Option("name", "The header name.", required=True, check=_header_name),
            Option("value", "The header value.", required=True),
        ),
    ),
)

CATALOGUES = {"input": INPUT_AUTHENTICATION, "destination": DESTINATION_AUTHENTICATION}


def _clean_option(option: Option, value: object) -> object:
    if option.type == "integer":
        try:
            number = int(value)  # type: ignore[call-overload]
        except (TypeError, ValueError, OverflowError):
            raise ValueError("Must be an integer.") from None
        if isinstance(value, bool) or (isinstance(value, float) and value != number):
            raise ValueError("Must be an integer.")
        if option.min_value is not None and number < option.min_value:
            raise ValueError(f"Must be at least {option.min_value}.")
        if option.max_value is not None and number > option.max_value:
            raise ValueError(f"Must be at most {option.max_value}.")
        return number
    if not isinstance(value, str):
        raise ValueError("Must be a string.")
    if any(char in value for char in "\r\n\x00"):
        raise ValueError("Must not contain line breaks or NUL characters.")
    if option.choices and value not in option.choices:
        raise ValueError(f"Must be one of: {', '.join(option.choices)}.")
    return option.check(value) if option.check else value


def validate_authentication_options(auth_type: AuthenticationType, options: dict) -> dict:
    """The options of ``auth_type`` with defaults filled in and values normalised.

    Raises ``ValueError`` with a list of messages (``"<option>: <problem>"``) for unknown,
    missing or invalid options."""
    known = {option.name: option for option in auth_type.options}
    errors = [f"{name}: Unknown option for '{auth_type.name}'." for name in options if name not in known]
    cleaned: dict = {}
    for option in auth_type.options:
        # A blank value counts as omitted: forms cannot send null.
        if options.get(option.name) not in (None, ""):
            try:
                cleaned[option.name] = _clean_option(option, options[option.name])
            except ValueError as exc:
                errors.append(f"{option.name}: {exc}")
        elif option.required:
            errors.append(f"{option.name}: This option is required.")
        elif option.generate:
            cleaned[option.name] = option.generate()
        elif option.default is not None:
            cleaned[option.name] = option.default
    if errors:
        raise ValueError(errors)
    if auth_type.name == "token" and cleaned["location"] == "header":
        try:
            _header_name(cleaned["name"])
        except ValueError as exc:
            raise ValueError([f"name: {exc}"]) from None
    return cleaned
