"""Every method of the webhooks.io Node.js client (seed 002) has a Python counterpart with the
same positional parameters, every option as a keyword argument and the same options required.

The seed is parsed at test time from ``../shared/seeds/`` beside the repository; the explicit
table below names each counterpart, so a missing one fails by name."""

from __future__ import annotations

import ast
import inspect
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from hookrelay import Client
from hookrelay.methods import METHODS

ROOT = Path(__file__).resolve().parents[2]
SEED = next((ROOT.parent / "shared" / "seeds").glob("002_*.txt"), None)
REFERENCE = ROOT.parent / "shared" / "reference" / "webhooks-io-api-v1.md"

# seed 002's method -> the Python method (snake case of the Node name).
TABLE = {
    # Accounts
    "registerAccount": "register_account", "createSubAccount": "create_sub_account",
    "getSubAccounts": "get_sub_accounts", "getAccount": "get_account", "updateAccount": "update_account",
    "deleteAccount": "delete_account",
    # Applications
    "createApplication": "create_application", "updateApplication": "update_application",
    "getApplication": "get_application", "getApplications": "get_applications",
    "deleteApplication": "delete_application", "createApplicationVersion": "create_application_version",
    "updateApplicationVersion": "update_application_version", "getApplicationVersion": "get_application_version",
    "getApplicationVersions": "get_application_versions", "deleteApplicationVersion": "delete_application_version",
    # Buckets
    "createBucket": "create_bucket", "updateBucket": "update_bucket", "getBucket": "get_bucket",
    "getBuckets": "get_buckets", "deleteBucket": "delete_bucket",
    # Inputs
    "createInput": "create_input", "updateInput": "update_input", "getInput": "get_input",
    "getInputs": "get_inputs", "deleteInput": "delete_input",
    # Destinations
    "createDestination": "create_destination", "updateDestination": "update_destination",
    "getDestination": "get_destination", "getDestinations": "get_destinations",
    "deleteDestination": "delete_destination",
    # Recipes
    "createRecipe": "create_recipe", "updateRecipe": "update_recipe", "publishRecipe": "publish_recipe",
    "getRecipe": "get_recipe", "getRecipes": "get_recipes", "deleteRecipe": "delete_recipe",
    "testRecipe": "test_recipe",
    # Providers
    "createConsumer": "create_consumer", "getConsumers": "get_consumers", "updateConsumer": "update_consumer",
    "getConsumer": "get_consumer", "deleteConsumer": "delete_consumer",
    "getConsumerDestinations": "get_consumer_destinations",
    "createConsumerDestination": "create_consumer_destination",
    "updateConsumerDestination": "update_consumer_destination",
    "deleteConsumerDestination": "delete_consumer_destination", "getConsumerBuckets": "get_consumer_buckets",
    "sendConsumerWebhookRequest": "send_consumer_webhook_request",
    "getConsumerSubscription": "get_consumer_subscription", "getConsumerRequestLog": "get_consumer_request_log",
    "createClientToken": "create_client_token", "getEmbeddedViewHtml": "get_embedded_view_html",
    # Reporting
    "getOverviewReport": "get_overview_report", "getSummaryReport": "get_summary_report",
    "getRequestLog": "get_request_log",
    # Messages
    "getIncomingMessage": "get_incoming_message", "getOutgoingMessage": "get_outgoing_message",
    "getOutgoingMessageStatus": "get_outgoing_message_status",
    # Users
    "login": "login", "changePassword": "change_password", "getAPIToken": "get_api_token",
    "resetPassword": "reset_password", "lookupPasswordChangeKey": "lookup_password_change_key",
    "createUser": "create_user", "updateUser": "update_user", "getUser": "get_user", "getUsers": "get_users",
    "deleteUser": "delete_user", "verifyEmailAddress": "verify_email_address",
    "resendVerificationEmail": "resend_verification_email",
    # Utils
    "healthCheck": "health_check", "getPlans": "get_plans", "getPlan": "get_plan",
    "getTimezones": "get_timezones", "getRetryPolicies": "get_retry_policies", "getRetryPolicy": "get_retry_policy",
}  # fmt: skip

# Where the Python method knowingly differs from the Node client's parameters.
DROPPED_PARAMETERS = {
    # List Users takes a user_id in the Node client; the reference's path has none.
    "getUsers": {"user_id"},
}


@dataclass
class SeedMethod:
    name: str
    section: str
    params: list[str]  # positional, without options and callback
    required: set[str]
    optional: set[str]


def reference_option_names() -> set[str]:
    return set(re.findall(r"\* ```(\w+)```", REFERENCE.read_text()))


def option_name(line: str, vocabulary: set[str]) -> str:
    """The option name glued to the end of the description line before it: the trailing
    identifier after the end of a sentence or example ("...(example: Bob)last_name"), else its
    longest suffix that the reference names ("...on the accountpassword_confirm")."""
    trailing = re.search(r"[a-z_]+$", line)
    assert trailing, f"no option name at the end of {line!r}"
    word = trailing.group()
    start = trailing.start()
    if start > 0 and line[start - 1] in ").":
        return word
    suffixes = [word[i:] for i in range(len(word)) if word[i:] in vocabulary]
    assert suffixes, f"cannot tell the option name in {line!r}"
    return suffixes[0]


def parse_seed(text: str) -> list[SeedMethod]:
    """The methods of seed 002 with their section, positional parameters and options.

    In the seed's text a section title is the line three above a ``wh_api.`` call that is not an
    option's description; an option's description line starts with "-" or "(required) -" and
    the name of the next option is glued to its end."""
    lines = text.splitlines()
    vocabulary = reference_option_names()
    methods: list[SeedMethod] = []
    section = ""
    for index, line in enumerate(lines):
        if (
            index + 3 < len(lines)
            and lines[index + 3].startswith("wh_api.")
            and not line.startswith(("-", "("))
        ):
            section = line
        call = re.match(r"wh_api\.(\w+)\((.*)\);$", line)
        if call:
            params = [p.strip() for p in call.group(2).split(",")]
            positional = [p for p in params if re.fullmatch(r"\w+", p) and p not in ("options", "callback")]
            methods.append(SeedMethod(call.group(1), section, positional, set(), set()))
        elif line == "Options" and methods:
            method = methods[-1]
            name = lines[index + 1]
            cursor = index + 2
            while cursor < len(lines) and re.match(r"(\(required\) )?-", lines[cursor]):
                description = lines[cursor]
                (method.required if description.startswith("(required)") else method.optional).add(name)
                cursor += 1
                if cursor < len(lines) and re.match(r"(\(required\) )?-", lines[cursor]):
                    name = option_name(description, vocabulary)
    return methods


@pytest.fixture(scope="module")
def seed_methods() -> list[SeedMethod]:
    if SEED is None:
        pytest.fail(
            f"Seed 002 not found under {ROOT.parent / 'shared' / 'seeds'} (the shared folder beside the repo)"
        )
    return parse_seed(SEED.read_text())


def test_the_table_names_every_method_of_the_seed(seed_methods):
    names = [method.name for method in seed_methods]

    assert len(names) == len(set(names)) == 77
    assert set(TABLE) == set(names)
    assert all(python == re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", node).lower()
               for node, python in TABLE.items())  # fmt: skip


@pytest.mark.parametrize("node_name", sorted(TABLE))
def test_the_client_has_the_method_with_the_seeds_parameters(seed_methods, node_name):
    seed = next(method for method in seed_methods if method.name == node_name)
    method = getattr(Client, TABLE[node_name], None)
    assert method is not None, f"Client has no {TABLE[node_name]} (seed 002's {node_name})"
    parameters = list(inspect.signature(method).parameters.values())[1:]  # without self
    kinds = inspect.Parameter

    positional = [p.name for p in parameters if p.kind == kinds.POSITIONAL_OR_KEYWORD]
    required = {p.name for p in parameters if p.kind == kinds.KEYWORD_ONLY and p.default is kinds.empty}
    keywords = {p.name for p in parameters if p.kind == kinds.KEYWORD_ONLY}

    expected_positional = [p for p in seed.params if p not in DROPPED_PARAMETERS.get(node_name, set())]
    assert positional == expected_positional
    assert required == seed.required
    assert seed.optional <= keywords
    assert parameters[-1].kind == kinds.VAR_KEYWORD  # any further option of the API passes through


def test_the_parser_reads_glued_option_names(seed_methods):
    """Spot checks of the seed's hardest spots, so a parser slip cannot pass unnoticed."""
    by_name = {method.name: method for method in seed_methods}

    assert by_name["registerAccount"].required == {
        "first_name", "last_name", "email_address", "password", "password_confirm", "plan_id", "invite_code"
    }  # fmt: skip
    assert "email_verification_callback_url" in by_name["registerAccount"].optional
    assert by_name["createApplicationVersion"].required == {
        "key",
        "release_date",
        "version_json",
        "examples_json",
        "active",
    }
    assert by_name["getConsumerRequestLog"].optional == {
        "start_date",
        "end_date",
        "destination_id",
        "http_status",
    }
    assert by_name["createUser"].required >= {"timezone", "notify", "permission_level"}
    assert by_name["sendConsumerWebhookRequest"].params == [
        "account_id",
        "application_id",
        "consumer_id",
        "bucket_key",
    ]
    assert by_name["getOverviewReport"].section == "Reporting"


def test_every_section_of_the_seed_has_a_live_test(seed_methods):
    """One test per seed 002 section at least, against the live platform: ``test_<section>_section``."""
    defined = set()
    for module in Path(__file__).parent.glob("test_*.py"):
        tree = ast.parse(module.read_text())
        defined |= {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}

    sections = {method.section for method in seed_methods}

    assert len(sections) == 11
    assert {f"test_{section.lower()}_section" for section in sections} <= defined


def test_the_sdk_readme_lists_every_method():
    readme = (ROOT / "sdk" / "README.md").read_text()

    missing = [name for name in METHODS if f"`{name}(" not in readme]

    assert missing == []
