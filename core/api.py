"""Base API views. Every account-scoped view resolves ``account_id`` through the tenant
selector after authentication, so another tenant's account (or any object under it) is 404."""

from __future__ import annotations

from rest_framework import generics

from core.errors import NotFound


class AccountScopedMixin:
    """Sets ``self.account`` to the URL's account, visible to the principal or 404."""

    # None until initial() runs; schema generation builds querysets without a request.
    account = None

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        from accounts.selectors import account_get_visible

        # PostgreSQL text cannot hold NUL: such an id names nothing, rather than failing the query.
        if any("\x00" in str(value) for value in kwargs.values()):
            raise NotFound("Not found.")
        self.account = account_get_visible(principal=request.user, account_id=kwargs["account_id"])


class ScopedListCreateView(AccountScopedMixin, generics.ListCreateAPIView):
    pass


class ScopedDetailView(AccountScopedMixin, generics.RetrieveUpdateDestroyAPIView):
    """GET, PUT and DELETE of one object. PUT updates only the fields it is given, as
    webhooks.io clients send partial bodies to PUT."""

    http_method_names = ["get", "put", "patch", "delete", "head", "options"]

    def update(self, request, *args, **kwargs):
        kwargs["partial"] = True
        return super().update(request, *args, **kwargs)
