"""The methods of the webhooks.io Node.js client (seed 002), one entry each: the HTTP method and
path of the /v1 reference, the positional parameters in the Node client's order, and its
options (required ones become required keyword arguments). ``Client`` gets one Python method per
entry, named in snake case (``registerAccount`` -> ``register_account``).

Options go in the query string of GET and DELETE calls and in the JSON body of POST and PUT
calls; options left at None are not sent; ``**options`` passes any further option of the API."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from string import Formatter
from typing import Any
from urllib.parse import quote

ACCOUNT = "accounts/{account_id}"
APPLICATION = ACCOUNT + "/applications/{application_id}"
CONSUMER = APPLICATION + "/consumers/{consumer_id}"

APPLICATION_FIELDS = (
    "name",
    "categories",
    "overview",
    "description",
    "homepage_url",
    "api_url",
    "logo_url",
    "active",
)
VERSION_FIELDS = ("key", "release_date", "version_json", "examples_json", "active")
INPUT_OPTIONS = (
    "status", "event_location", "event_path", "event_filters", "delivery_mode", "response_code",
    "response_content", "response_content_type", "authentication_failures", "authentication_type",
)  # fmt: skip
DESTINATION_OPTIONS = (
    "delivery_order", "status", "message_method", "event_filters", "authentication_type",
    "retry_policy_id", "retry_count", "retry_interval", "verify_ssl", "headers_to_include",
    "header_prefix", "alert_on_failure",
)  # fmt: skip
RECIPE_OPTIONS = ("sample_code", "notes")
LOG_DATES = ("start_date", "end_date")


@dataclass(frozen=True)
class Endpoint:
    http_method: str
    path: str  # under /v1, with {placeholders} filled from the parameters or options of that name
    doc: str
    params: tuple[str, ...] = ()
    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    renamed: dict[str, str] = field(default_factory=dict)  # the client's option name -> the API's


def e(
    http_method: str, path: str, doc: str, params: tuple[str, ...] = ("account_id",), **kw: Any
) -> Endpoint:
    return Endpoint(http_method, path, doc, params, **kw)


METHODS: dict[str, Endpoint] = {
    # Accounts
    "register_account": e(
        "POST", "register", "Creates a new account (the same call as a registration on the site).", (),
        required=("first_name", "last_name", "email_address", "password", "password_confirm", "plan_id", "invite_code"),
        optional=("name", "card_number", "card_month", "card_year", "card_cvc", "coupon", "referrer",
                  "email_verification_callback_url"),
    ),
    "create_sub_account": e("POST", ACCOUNT + "/subaccounts", "Creates a sub account.", required=("name",), optional=("account_key",)),
    "get_sub_accounts": e("GET", ACCOUNT + "/subaccounts", "Lists the sub accounts of an account.", optional=("account_key",)),
    "get_account": e("GET", ACCOUNT, "Returns the details of an account."),
    "update_account": e("PUT", ACCOUNT, "Updates the details of an account.", required=("name",), optional=("account_key",)),
    "delete_account": e("DELETE", ACCOUNT, "Deletes an account or sub account."),
    # Applications
    "create_application": e("POST", ACCOUNT + "/applications", "Adds an application to an account.", required=APPLICATION_FIELDS),
    "update_application": e("PUT", APPLICATION, "Updates an application.", ("account_id", "application_id"), required=APPLICATION_FIELDS),
    "get_application": e("GET", APPLICATION, "Returns the details of an application.", ("account_id", "application_id")),
    "get_applications": e("GET", ACCOUNT + "/applications", "Returns the applications of an account."),
    "delete_application": e("DELETE", APPLICATION, "Deletes an application.", ("account_id", "application_id")),
    "create_application_version": e(
        "POST", APPLICATION + "/versions", "Adds a version to an application.", ("account_id", "application_id"),
        required=VERSION_FIELDS,
    ),
    "update_application_version": e(
        "PUT", APPLICATION + "/versions/{application_version_id}", "Updates an application version.",
        ("account_id", "application_id", "application_version_id"), required=VERSION_FIELDS,
    ),
    "get_application_version": e(
        "GET", APPLICATION + "/versions/{application_version_id}", "Returns the details of an application version.",
        ("account_id", "application_id", "application_version_id"),
    ),
    "get_application_versions": e(
        "GET", APPLICATION + "/versions", "Returns the versions of an application.", ("account_id", "application_id")
    ),
    "delete_application_version": e(
        "DELETE", APPLICATION + "/versions/{application_version_id}", "Deletes a version of an application.",
        ("account_id", "application_id", "application_version_id"),
    ),
    # Buckets
    "create_bucket": e("POST", ACCOUNT + "/buckets", "Adds a bucket to an account.", required=("name",), optional=("key",)),
    "update_bucket": e("PUT", ACCOUNT + "/buckets/{bucket_id}", "Updates a bucket.", ("account_id", "bucket_id"), required=("name",), optional=("key",)),
    "get_bucket": e("GET", ACCOUNT + "/buckets/{bucket_id}", "Returns the details of a bucket.", ("account_id", "bucket_id")),
    "get_buckets": e("GET", ACCOUNT + "/buckets", "Returns the buckets of an account."),
    "delete_bucket": e("DELETE", ACCOUNT + "/buckets/{bucket_id}", "Deletes a bucket.", ("account_id", "bucket_id")),
    # Inputs
    "create_input": e("POST", ACCOUNT + "/inputs", "Adds an input to a bucket.", required=("bucket_id", "name"), optional=INPUT_OPTIONS),
    "update_input": e("PUT", ACCOUNT + "/inputs/{input_id}", "Updates an input.", ("account_id", "input_id"), required=("name",), optional=INPUT_OPTIONS),
    "get_input": e("GET", ACCOUNT + "/inputs/{input_id}", "Returns the details of an input.", ("account_id", "input_id")),
    "get_inputs": e(
        "GET", ACCOUNT + "/buckets/{bucket_id}/inputs", "Returns the inputs of a bucket.", ("account_id", "bucket_id"),
        optional=("key", "event_filter"),
    ),
    "delete_input": e("DELETE", ACCOUNT + "/inputs/{input_id}", "Deletes an input.", ("account_id", "input_id")),
    # Destinations
    "create_destination": e(
        "POST", ACCOUNT + "/inputs/{input_id}/destinations", "Adds a destination to an input (the answer holds its signing secret).",
        ("account_id", "input_id"), required=("name", "endpoint_url"), optional=DESTINATION_OPTIONS,
    ),
    "update_destination": e(
        "PUT", ACCOUNT + "/destinations/{destination_id}", "Updates a destination.", ("account_id", "destination_id"),
        required=("name", "endpoint_url"), optional=DESTINATION_OPTIONS,
    ),
    "get_destination": e("GET", ACCOUNT + "/destinations/{destination_id}", "Returns the details of a destination.", ("account_id", "destination_id")),
    "get_destinations": e(
        "GET", ACCOUNT + "/inputs/{input_id}/destinations", "Returns the destinations of an input.", ("account_id", "input_id"),
        optional=("destination_key",),
    ),
    "delete_destination": e("DELETE", ACCOUNT + "/destinations/{destination_id}", "Deletes a destination.", ("account_id", "destination_id")),
    # Recipes
    "create_recipe": e("POST", ACCOUNT + "/recipes", "Adds a recipe to an account.", required=("name", "type", "recipe_draft"), optional=RECIPE_OPTIONS),
    "update_recipe": e(
        "PUT", ACCOUNT + "/recipes/{recipe_id}", "Updates a recipe.", ("account_id", "recipe_id"),
        required=("name", "type", "recipe_draft"), optional=RECIPE_OPTIONS,
    ),
    "publish_recipe": e("POST", ACCOUNT + "/recipes/{recipe_id}/publish", "Publishes the draft of a recipe.", ("account_id", "recipe_id")),
    "get_recipe": e("GET", ACCOUNT + "/recipes/{recipe_id}", "Returns the details of a recipe.", ("account_id", "recipe_id")),
    "get_recipes": e("GET", ACCOUNT + "/recipes", "Returns the recipes of an account."),
    "delete_recipe": e("DELETE", ACCOUNT + "/recipes/{recipe_id}", "Deletes a recipe.", ("account_id", "recipe_id")),
    "test_recipe": e(
        "PUT", ACCOUNT + "/recipes/test", "Runs a recipe on sample code and returns its output.",
        required=("type", "recipe"), optional=("sample_code", "event_type"),
    ),
    # Providers
    "create_consumer": e(
        "POST", APPLICATION + "/consumers", "Creates a consumer of an application.", ("account_id", "application_id"),
        required=("consumer_id", "bucket_key", "name"),
    ),
    "get_consumers": e("GET", APPLICATION + "/consumers", "Returns the consumers of an application.", ("account_id", "application_id")),
    "update_consumer": e("PUT", CONSUMER, "Updates a consumer.", ("account_id", "application_id", "consumer_id"), required=("name",)),
    "get_consumer": e("GET", CONSUMER, "Returns the details of a consumer.", ("account_id", "application_id", "consumer_id")),
    "delete_consumer": e("DELETE", CONSUMER, "Removes a consumer from an application.", ("account_id", "application_id", "consumer_id")),
    "get_consumer_destinations": e(
        "GET", CONSUMER + "/destinations", "Returns the destinations of a consumer.", ("account_id", "application_id", "consumer_id"),
        required=("bucket_key",), optional=("destination_key",),
    ),
    "create_consumer_destination": e(
        "POST", CONSUMER + "/destinations", "Adds a destination for a consumer.", ("account_id", "application_id", "consumer_id"),
        required=("application_version_id", "name", "bucket_key", "endpoint_url"), optional=DESTINATION_OPTIONS,
    ),
    "update_consumer_destination": e(
        "PUT", CONSUMER + "/destinations/{destination_id}", "Updates a destination of a consumer.",
        ("account_id", "application_id", "consumer_id", "destination_id"),
        required=("application_version_id", "name", "endpoint_url"), optional=DESTINATION_OPTIONS,
    ),
    "delete_consumer_destination": e(
        "DELETE", CONSUMER + "/destinations/{destination_id}", "Deletes a destination of a consumer.",
        ("account_id", "application_id", "consumer_id", "destination_id"),
    ),
    "get_consumer_buckets": e("GET", CONSUMER + "/buckets", "Returns the buckets of a consumer.", ("account_id", "application_id", "consumer_id")),
    "send_consumer_webhook_request": e(
        "POST", CONSUMER + "/send/{bucket_key}", "Sends a webhook (the options are its JSON body) to a consumer's bucket.",
        ("account_id", "application_id", "consumer_id", "bucket_key"),
    ),
    "get_consumer_subscription": e(
        "POST", CONSUMER + "/check/{bucket_key}", "Checks whether a consumer is subscribed to an event.",
        ("account_id", "application_id", "consumer_id"), required=("bucket_key", "event_name"),
        optional=("include_destination_detail",), renamed={"event_name": "event_type"},
    ),
    "get_consumer_request_log": e(
        "GET", CONSUMER + "/log", "Returns the log of a consumer's messages.", ("account_id", "application_id", "consumer_id"),
        optional=(*LOG_DATES, "destination_id", "http_status"),
    ),
    "create_client_token": e(
        "POST", CONSUMER + "/client-token", "Generates a client token for the embedded views.",
        ("account_id", "application_id", "consumer_id"), optional=("bucket_key", "paths"),
    ),
    "get_embedded_view_html": e(
        "POST", CONSUMER + "/embedded-view-html", "Returns the HTML of the embedded view.",
        ("account_id", "application_id", "consumer_id"), optional=("bucket_key", "paths", "css_url"),
    ),
    # Reporting
    "get_overview_report": e(
        "GET", ACCOUNT + "/stats/overview", "Returns the overview report (a time series).",
        required=("start_date", "end_date", "precision"),
        optional=("application_id", "bucket_id", "destination_id", "input_id", "include_sub_accounts"),
    ),
    "get_summary_report": e(
        "GET", ACCOUNT + "/stats/summary", "Returns the summary report.", optional=(*LOG_DATES, "bucket_id", "destination_id", "input_id")
    ),
    "get_request_log": e("GET", ACCOUNT + "/log", "Returns the log of all messages.", optional=(*LOG_DATES, "input_id", "bucket_id", "http_status")),
    # Messages
    "get_incoming_message": e(
        "GET", ACCOUNT + "/incoming/{incoming_message_id}", "Returns an incoming message.", ("account_id", "incoming_message_id"),
        optional=("include_outgoing_messages",),
    ),
    "get_outgoing_message": e(
        "GET", ACCOUNT + "/outgoing/{outgoing_message_id}", "Returns an outgoing message with its attempts.", ("account_id", "outgoing_message_id")
    ),
    "get_outgoing_message_status": e(
        "GET", ACCOUNT + "/outgoing/{outgoing_message_id}/status", "Returns the status of an outgoing message.",
        ("account_id", "outgoing_message_id"),
    ),
    # Users
    "login": e("PUT", "authenticate", "Authenticates a user's credentials (the answer holds a session token).", (), required=("email_address", "password")),
    "change_password": e(
        "PUT", ACCOUNT + "/users/{user_id}/change_password", "Changes a user's password (with the existing password or a change key).",
        ("account_id", "user_id"), required=("new_password", "new_confirm_password"), optional=("change_key", "existing_password"),
    ),
    "get_api_token": e("GET", ACCOUNT + "/users/{user_id}/api-token", "Issues a long-lived API token to the authenticated user.", ("account_id", "user_id")),
    "reset_password": e("POST", "reset_password", "Emails a user a link to change their password.", (), required=("email_address",)),
    "lookup_password_change_key": e(
        "GET", "password_change_key/{password_change_key}", "Looks up a password change key.", ("password_change_key",)
    ),
    "create_user": e(
        "POST", ACCOUNT + "/users", "Adds a user to an account.",
        required=("first_name", "last_name", "email_address", "password", "permission_level", "timezone", "notify"),
    ),
    "update_user": e(
        "PUT", ACCOUNT + "/users/{user_id}", "Updates a user.", ("account_id", "user_id"),
        required=("first_name", "last_name", "email_address", "timezone"), optional=("password", "permission_level"),
    ),
    "get_user": e("GET", ACCOUNT + "/users/{user_id}", "Returns the details of a user.", ("account_id", "user_id")),
    # The Node client also takes a user_id here; the reference's List Users path has none.
    "get_users": e("GET", ACCOUNT + "/users", "Returns the users of an account."),
    "delete_user": e("DELETE", ACCOUNT + "/users/{user_id}", "Deletes a user.", ("account_id", "user_id")),
    "verify_email_address": e("GET", "verify/{email_verification_key}", "Verifies an email address.", ("email_verification_key",)),
    "resend_verification_email": e(
        "GET", ACCOUNT + "/users/{user_id}/resend_verification", "Resends a user's verification email.", ("account_id", "user_id")
    ),
    # Utils
    "health_check": e("GET", "health", "System health check.", ()),
    "get_plans": e("GET", "plans", "Returns the public plans.", ()),
    "get_plan": e("GET", "plans/{plan_id}", "Returns a plan.", ("plan_id",)),
    "get_timezones": e("GET", "util/timezones", "Returns the valid timezones.", ()),
    "get_retry_policies": e("GET", "retry_policies", "Returns the retry policies and the system default.", ()),
    "get_retry_policy": e("GET", "retry_policies/{policy_id}", "Returns a retry policy.", ("policy_id",)),
    # Beyond the Node client: resending (the reference's Resend Request).
    "resend": e("POST", ACCOUNT + "/resend", "Duplicates outgoing messages and delivers the copies.", required=("outgoing_message_ids",)),
}  # fmt: skip


def _signature(endpoint: Endpoint) -> inspect.Signature:
    parameters = [inspect.Parameter("self", inspect.Parameter.POSITIONAL_ONLY)]
    parameters += [
        inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD) for name in endpoint.params
    ]
    parameters += [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY) for name in endpoint.required]
    parameters += [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None) for name in endpoint.optional
    ]
    parameters.append(inspect.Parameter("options", inspect.Parameter.VAR_KEYWORD))
    return inspect.Signature(parameters)


def make_method(name: str, endpoint: Endpoint) -> Callable[..., Any]:
    """The client method of one endpoint: it binds its arguments like a written-out method would
    (a missing required option is a TypeError), fills the path and sends the rest as options."""
    signature = _signature(endpoint)
    in_path = {field_name for _, field_name, _, _ in Formatter().parse(endpoint.path) if field_name}

    def method(*args: Any, **kwargs: Any) -> Any:
        arguments = dict(signature.bind(*args, **kwargs).arguments)
        client = arguments.pop("self")
        extra = arguments.pop("options", {})
        options = {**arguments, **extra}
        segments = {key: quote(str(options.pop(key)), safe="") for key in in_path}
        options = {endpoint.renamed.get(key, key): value for key, value in options.items()}
        where = "params" if endpoint.http_method in ("GET", "DELETE") else "json"
        return client._transport.request(
            endpoint.http_method, "/" + endpoint.path.format(**segments), **{where: options}
        )

    method.__name__ = method.__qualname__ = name
    method.__doc__ = endpoint.doc
    method.__signature__ = signature  # type: ignore[attr-defined]
    return method
