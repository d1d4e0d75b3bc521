"""Figure 5, ingest: committed webhooks/s at the gateway against the trivial view on the same
gunicorn (wrk, or the Python load generator without it)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time

from bench import load
from bench.stack import ROOT, body, cpu_seconds, machine_cpu_seconds

USE_WRK = bool(shutil.which("wrk"))


def wrk(url: str, payload: bytes, connections: int, seconds: float) -> dict:
    output = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            "--timeout",
            "10s",
            "-s",
            "bench/wrk.lua",
            url,
        ],
        cwd=ROOT,
        env={**os.environ, "BENCH_BODY": payload.decode()},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    line = next(line for line in output.splitlines() if line.startswith("BENCH_JSON "))
    raw = json.loads(line.removeprefix("BENCH_JSON "))
    ok = raw["requests"] - raw["non_2xx"]
    return {
        "requests": raw["requests"],
        "ok": ok,
        "failed": raw["non_2xx"] + raw["socket_errors"],
        "per_second": ok / (raw["duration_us"] / 1e6),
        "p50_ms": raw["p50_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
    }


def load_for(url: str, payload: bytes, connections: int, seconds: float, use_wrk: bool) -> dict:
    if use_wrk:
        return {**wrk(url, payload, connections, seconds), "tool": "wrk"}
    return {**load.fixed_duration(url, payload, connections=connections, seconds=seconds), "tool": "python"}


def measured_load(
    url: str, payload: bytes, connections: int, seconds: float, use_wrk: bool, web: list[int]
) -> dict:
    """``load_for``, with the CPU time per answered request of the web server's workers, of the
    load generator (this process's threads, or wrk: a child it waited for) and of the whole
    machine."""
    parts = {
        "web": lambda: cpu_seconds(web),
        "load": lambda: sum(os.times()[:4]),
        "machine": machine_cpu_seconds,
    }
    before = {name: used() for name, used in parts.items()}
    measured = load_for(url, payload, connections, seconds, use_wrk)
    answered = max(measured["requests"], 1)
    measured["cpu_ms_per_request"] = {
        name: round((used() - before[name]) * 1000 / answered, 3) for name, used in parts.items()
    }
    return measured


def figure_ingest(args, base: str, input, profiler, *, use_wrk: bool) -> dict:
    from deliveries.models import IncomingMessage

    gateway = f"{base}/v1/ingest/{input.pk}"
    trivial = f"{base}/bench/trivial"
    payload = body(0, "bench.ingest")
    rows = IncomingMessage.objects.filter(input=input)
    web = profiler.targets["ingest"]
    figure = {}
    for connections in args.connections:
        load_for(trivial, payload, connections, args.warmup, use_wrk)
        reference = measured_load(trivial, payload, connections, args.ingest_seconds, use_wrk, web)
        load_for(gateway, payload, connections, args.warmup, use_wrk)
        before = rows.count()
        with profiler("ingest" if connections == max(args.connections) else None):
            measured = measured_load(gateway, payload, connections, args.ingest_seconds, use_wrk, web)
        time.sleep(1.0)  # requests wrk abandoned at its deadline may still commit
        stored = rows.count() - before
        figure[str(connections)] = {
            "gateway": measured,
            "trivial": reference,
            "ratio": round(measured["per_second"] / reference["per_second"], 3),
            "stored": stored,
            "all_accepted_stored": stored >= measured["ok"] and measured["failed"] == 0,
        }
    return figure
