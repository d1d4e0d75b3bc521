"""Permission levels: viewer < developer < admin < owner.

Views declare ``read_level`` (default viewer) and ``write_level`` (default developer); a
principal below the level answers 403. Unauthenticated requests answer 401.
"""

from __future__ import annotations

from rest_framework.permissions import SAFE_METHODS, BasePermission

LEVELS = {"viewer": 0, "developer": 1, "admin": 2, "owner": 3}


def has_level(principal, level: str) -> bool:
    return LEVELS.get(getattr(principal, "permission_level", ""), -1) >= LEVELS[level]


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
        return has_level(principal, required)


class AllowAny(BasePermission):
    def has_permission(self, request, view) -> bool:
        return True
