from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.response import Response

from core.api import AccountScopedMixin, ScopedDetailView, ScopedListCreateView
from recipes import selectors, services
from recipes.serializers import RecipeSerializer, RecipeTestResultSerializer, RecipeTestSerializer


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


class RecipeTestView(AccountScopedMixin, generics.GenericAPIView):
    """Run a recipe (a draft) on a sample message: the message it produces, its console lines,
    or its error with line and column. 200 whatever the recipe did; nothing is stored."""

    serializer_class = RecipeTestSerializer

    @extend_schema(responses=RecipeTestResultSerializer)
    def put(self, request, *args, **kwargs) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        outcome = services.recipe_test(**serializer.validated_data)
        return Response(RecipeTestResultSerializer(outcome).data)
