"""The pipeline's one entry point into recipes.

Until the sandbox exists, a recipe hook passes the message through unchanged; the recipes
issue fills ``run_recipe`` in. The pipeline calls it for input recipes (once per incoming
message) and destination recipes (per outgoing message, or per attempt)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Message:
    """What a recipe sees and may change."""

    body: bytes
    headers: dict[str, str]
    method: str
    event_type: str
    content_type: str
    url: str = ""


@dataclass
class RecipeOutcome:
    message: Message | None  # None: the recipe dropped the message (skip / exit(null))
    error: str = ""
    logs: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return bool(self.error)


def run_recipe(*, recipe, message: Message) -> RecipeOutcome:
    """Run the published code of ``recipe`` on ``message``. Passes it through for now."""
    return RecipeOutcome(message=message)
