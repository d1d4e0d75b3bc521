from __future__ import annotations

from django.apps import AppConfig


class InputsConfig(AppConfig):
    name = "inputs"
    verbose_name = "Inputs"
