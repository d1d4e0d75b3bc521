from __future__ import annotations

from django.urls import path, re_path

from recipes import api

# Recipe ids only, so that fixed paths such as ``recipes/test`` are never taken for an id.
RECIPE = r"^accounts/(?P<account_id>[^/]+)/recipes/(?P<recipe_id>RE[0-9a-f]{32})"

urlpatterns = [
    path("accounts/<str:account_id>/recipes", api.RecipeListView.as_view(), name="recipe-list"),
    path("accounts/<str:account_id>/recipes/test", api.RecipeTestView.as_view(), name="recipe-test"),
    re_path(RECIPE + r"$", api.RecipeDetailView.as_view(), name="recipe-detail"),
    re_path(RECIPE + r"/publish$", api.RecipePublishView.as_view(), name="recipe-publish"),
]
