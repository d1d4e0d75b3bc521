"""Settings of the benchmarked stack: production settings (SECRET_KEY and DATABASE_URL from the
environment, persistent connections, DEBUG off) plus the bench's reference view."""

from __future__ import annotations

from config.settings.production import *  # noqa: F403

ROOT_URLCONF = "bench.reference"
