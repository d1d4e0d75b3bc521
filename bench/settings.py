"""Settings of the benchmarked stack: production settings (SECRET_KEY and DATABASE_URL from the
environment, persistent connections, DEBUG off) plus the bench's reference view."""

from __future__ import annotations

from config.settings import base
from config.settings.production import *  # noqa: F403

ROOT_URLCONF = "bench.reference"
# Figure 6 runs on SQLite: production's DATABASES drops the embedded default's options (WAL,
# BEGIN IMMEDIATE), without which concurrent claims fail with "database is locked".
DATABASES["default"]["OPTIONS"] = base.DATABASES["default"].get("OPTIONS", {})  # noqa: F405
