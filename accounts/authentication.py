"""API and session tokens: ``Authorization: Bearer <token>`` or ``?_token=<token>``."""

from __future__ import annotations

import hmac

from django.utils import timezone
from rest_framework import authentication, exceptions

from accounts.models import ApiToken
from core.secrets import digest


class ApiTokenAuthentication(authentication.BaseAuthentication):
    keyword = "bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1").strip()
        if header:
            scheme, _, token = header.partition(" ")
            if scheme.lower() != self.keyword:
                return None  # another scheme, e.g. client-token-bearer
            token = token.strip()
        else:
            token = request.query_params.get("_token", "")
            if not token:
                return None
        return self.authenticate_token(token)

    def authenticate_token(self, token: str):
        if not token:
            raise exceptions.AuthenticationFailed("Invalid token.")
        token_digest = digest(token)
        api_token = ApiToken.objects.select_related("user__account").filter(digest=token_digest).first()
        now = timezone.now()
        if (
            api_token is None
            or not hmac.compare_digest(api_token.digest, token_digest)
            or api_token.revoked_at is not None
            or (api_token.expires_at is not None and api_token.expires_at <= now)
            or not api_token.user.is_active
            or api_token.user.account is None
        ):
            raise exceptions.AuthenticationFailed("Invalid or expired token.")
        # Write last_used at most once a minute, keeping the hot path free of writes.
        if api_token.last_used is None or (now - api_token.last_used).total_seconds() > 60:
            ApiToken.objects.filter(pk=api_token.pk).update(last_used=now)
        return api_token.user, api_token

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'
