from __future__ import annotations

from rest_framework import generics
from rest_framework.response import Response

from core.api import AccountScopedMixin, ScopedDetailView, ScopedListCreateView
from recipes import selectors, services
from recipes.serializers import RecipeSerializer


class RecipeViewMixin:
    serializer_class = RecipeSerializer

    def get_queryset(self):
        return selectors.recipe_list(account=self.account)


class RecipeListView(RecipeViewMixin, ScopedListCreateView):
    filterset_fields = ["type"]

    def perform_create(self, serializer):
        serializer.instance = services.recipe_create(account=self.account, **serializer.validated_data)


class RecipeDetailView(RecipeViewMixin, ScopedDetailView):
    lookup_url_kwarg = "recipe_id"

    def perform_update(self, serializer):
        services.recipe_update(recipe=serializer.instance, **serializer.validated_data)

    def perform_destroy(self, instance):
        services.recipe_delete(recipe=instance)


class RecipePublishView(RecipeViewMixin, AccountScopedMixin, generics.GenericAPIView):
    lookup_url_kwarg = "recipe_id"

    def post(self, request, *args, **kwargs) -> Response:
        recipe = services.recipe_publish(recipe=self.get_object())
        return Response(self.get_serializer(recipe).data)
