"""Prefixed identifiers: a two-letter prefix plus 32 lowercase hex characters (``AC3f2a...``)."""

from __future__ import annotations

import functools
import re
import uuid

from django.db import models

ID_LENGTH = 34
ID_PATTERN = re.compile(r"^[A-Z]{2}[0-9a-f]{32}$")


def new_id(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex}"


class PrefixedIdField(models.CharField):
    """Primary key of the form ``<prefix><32 hex>``, generated on instantiation."""

    def __init__(self, prefix: str = "", **kwargs):
        self.prefix = prefix
        kwargs.update(max_length=ID_LENGTH, primary_key=True, editable=False)
        kwargs["default"] = functools.partial(new_id, prefix)
        super().__init__(**kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        for key in ("max_length", "primary_key", "editable", "default"):
            kwargs.pop(key, None)
        kwargs["prefix"] = self.prefix
        return name, path, args, kwargs
