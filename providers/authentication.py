"""Client tokens for embedded views: ``Authorization: client-token-bearer <token>``.

A client token acts as a developer of its account (a consumer's sub-account) only, and only on
the paths it was issued for: globs relative to ``/v1/accounts/<account_id>/``, where the embedded
view's own endpoints (``/v1/embedded/...``, scoped to the token's bucket as well) count as
``embedded/...``. Any other account answers 404, as a foreign id does; any other path answers
403."""

from __future__ import annotations

import fnmatch
import hmac
from dataclasses import dataclass, field

from django.utils import timezone
from rest_framework import authentication, exceptions

from core.secrets import digest
from providers.models import ClientToken

ACCOUNTS_PREFIX = "/v1/accounts/"
EMBEDDED_PREFIX = "/v1/embedded/"


@dataclass(frozen=True)
class ClientPrincipal:
    token: ClientToken
    permission_level: str = "developer"
    is_authenticated: bool = True
    is_active: bool = True
    scopes: list = field(default_factory=list)

    @property
    def account(self):
        return self.token.account

    @property
    def pk(self):
        return None


def path_permitted(*, token: ClientToken, path: str) -> bool:
    prefix = f"{ACCOUNTS_PREFIX}{token.account_id}"
    if path.startswith(EMBEDDED_PREFIX):
        relative = "embedded/" + path[len(EMBEDDED_PREFIX) :].strip("/")
    elif path == prefix or path.startswith(prefix + "/"):
        relative = path[len(prefix) :].strip("/")
    else:
        return False
    patterns = token.paths or ["*"]
    return any(fnmatch.fnmatchcase(relative, pattern.strip("/")) for pattern in patterns)


def _other_account(*, token: ClientToken, path: str) -> bool:
    if not path.startswith(ACCOUNTS_PREFIX):
        return False
    account_id = path[len(ACCOUNTS_PREFIX) :].split("/", 1)[0]
    return account_id != token.account_id


class ClientTokenAuthentication(authentication.BaseAuthentication):
    keyword = "client-token-bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1").strip()
        scheme, _, token = header.partition(" ")
        if scheme.lower() != self.keyword:
            return None
        token_digest = digest(token.strip())
        client_token = (
            ClientToken.objects.select_related("account__plan", "consumer__application")
            .filter(digest=token_digest, expires_at__gt=timezone.now())
            .first()
        )
        if client_token is None or not hmac.compare_digest(client_token.digest, token_digest):
            raise exceptions.AuthenticationFailed("Invalid or expired client token.")
        if _other_account(token=client_token, path=request.path):
            raise exceptions.NotFound("Account not found.")
        if not path_permitted(token=client_token, path=request.path):
            raise exceptions.PermissionDenied("This client token does not permit this path.")
        return ClientPrincipal(token=client_token), client_token

    def authenticate_header(self, request) -> str:
        return 'client-token-bearer realm="embedded"'
