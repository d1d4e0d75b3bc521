"""Recipe overhead per message: what ``recipes.hooks.run_recipe`` adds to processing or delivering
one message, measured on a small recipe and a 1 KiB JSON message.

    .venv/bin/python bench/recipes.py [--runs 10000]

Prints the median and p99 of warm runs (the recipe version's context cached, as in a worker),
of the message form and of the function wh(){} form, and of cold runs (a fresh V8 context each
time, as for a draft under test or the first message after a publish). Target: warm median
under 2 ms."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

import django

django.setup()

from recipes.sandbox import Message, contexts, run, version_key  # noqa: E402

MESSAGE_FORM = """
var body = message.getBody();
message.setBody({id: body.id, customer: body.customer.email, total: body.total_cents / 100});
message.setHeader('X-Source', 'bench');
message.setEventType('order.' + body.status);
"""
FUNCTION_FORM = """
function wh() {
  result.data = {id: data.id, customer: data.customer.email, total: data.total_cents / 100};
  result.event_type = 'order.' + data.status;
  exit(result);
}
"""


def sample_message() -> Message:
    payload = {
        "id": 7024061,
        "status": "paid",
        "total_cents": 12950,
        "customer": {"email": "zoe@example.com", "name": "Zoë"},
        "lines": [{"sku": f"SKU-{n}", "quantity": n, "note": "x" * 40} for n in range(10)],
    }
    body = json.dumps(payload).encode()
    return Message(
        body=body,
        headers={"Content-Type": "application/json", "User-Agent": "bench"},
        method="POST",
        event_type="order.created",
        content_type="application/json",
    )


def measure(source: str, runs: int, *, cached: bool) -> list[float]:
    message = sample_message()
    key = version_key(account_id="ACbench", recipe_id="REbench", source=source) if cached else None
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        outcome = run(source=source, type="input", message=message, cache_key=key)
        timings.append((time.perf_counter() - started) * 1000)
        if outcome.failed or outcome.message is None:
            raise SystemExit(f"The bench recipe did not transform the message: {outcome}")
    return timings


def report(label: str, timings: list[float]) -> None:
    ordered = sorted(timings)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    print(
        f"{label:<38} runs={len(ordered):>6}  median={statistics.median(ordered):6.3f} ms  "
        f"p99={p99:6.3f} ms  mean={statistics.fmean(ordered):6.3f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--cold-runs", type=int, default=200)
    args = parser.parse_args()
    print(f"message {len(sample_message().body)} bytes of JSON; one thread; times per run_recipe call")
    measure(MESSAGE_FORM, 100, cached=True)  # first context of the process, JIT warm-up
    report("warm, message form", measure(MESSAGE_FORM, args.runs, cached=True))
    report("warm, function wh(){} form", measure(FUNCTION_FORM, args.runs, cached=True))
    report("cold (fresh V8 context), message form", measure(MESSAGE_FORM, args.cold_runs, cached=False))
    contexts.clear()


if __name__ == "__main__":
    main()
