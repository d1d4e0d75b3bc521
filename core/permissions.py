"""Permission levels: viewer < developer < admin < owner.

Views declare ``read_level`` (default viewer) and ``write_level`` (default developer); a
principal below the level answers 403. Unauthenticated requests answer 401.

An API token limited to scopes (``ApiToken.scopes``, e.g. ``WEBHOOKS:VIEW``) reaches only the
routes whose view grants one of them for the method (``token_scopes``, method -> scope); it
answers 403 anywhere else. A token without scopes has full access.
"""

from __future__ import annotations

from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import SAFE_METHODS, BasePermission

LEVELS = {"viewer": 0, "developer": 1, "admin": 2, "owner": 3}


def has_level(principal, level: str) -> bool:
    return LEVELS.get(getattr(principal, "permission_level", ""), -1) >= LEVELS[level]


def token_scope_allows(request, view) -> bool:
    scopes = getattr(request.auth, "scopes", None)
    if not scopes:
        return True
    method = "GET" if request.method in ("HEAD", "OPTIONS") else request.method
    return getattr(view, "token_scopes", {}).get(method) in scopes


class PermissionLevel(BasePermission):
    message = "Your permission level does not allow this action."

    def has_permission(self, request, view) -> bool:
        principal = request.user
        if not (principal and principal.is_authenticated):
            return False
        if request.method in SAFE_METHODS:
            required = getattr(view, "read_level", "viewer")
        else:
            required = getattr(view, "write_level", "developer")
        if not has_level(principal, required):
            return False
        if not token_scope_allows(request, view):
            raise PermissionDenied("This token's scopes do not allow this request.")
        return True


class AllowAny(BasePermission):
    def has_permission(self, request, view) -> bool:
        return True
