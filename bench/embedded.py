"""Figure 6, the embedded default: figure 2's burst on SQLite and the filesystem broker (what
``make run`` uses without DATABASE_URL and REDIS_URL), printed beside PostgreSQL's.

The bench process is bound to PostgreSQL, so the figure runs in a child process
(``python -m bench.embedded``) whose environment has no DATABASE_URL server and no Redis: it
migrates a fresh SQLite file in a temporary directory, starts its own sink, gunicorn and Celery
workers with the same settings as figure 2, sends one warm-up message through the whole pipeline
(the filesystem broker cannot answer a ping), runs the burst, and writes its result as JSON."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import e2e
from bench.stack import (
    BIN,
    ROOT,
    Stack,
    create_world,
    free_port,
    http_get,
    stack_env,
    wait_for,
)


def figure(args, logs: Path) -> dict:
    """Run the child and return its result (or what went wrong)."""
    directory = Path(tempfile.mkdtemp(prefix="hr_bench_embedded_"))
    for folder in ("broker", "broker-processed", "broker-control"):  # as scripts/run.sh makes them
        (directory / folder).mkdir()
    env = {
        **os.environ,
        **stack_env(args),
        "DATABASE_URL": f"sqlite:///{directory / 'hookrelay.sqlite3'}",
        "REDIS_URL": "",
        "HOOKRELAY_VAR_DIR": str(directory),
    }
    env.pop("CELERY_BROKER_URL", None)
    out = directory / "result.json"
    command = [
        sys.executable,
        "-m",
        "bench.embedded",
        str(out),
        str(logs),
        "--messages",
        str(args.embedded_messages),
        "--send-connections",
        str(args.send_connections),
        "--burst-send-limit",
        str(args.burst_send_limit),
        "--burst-drain",
        str(args.burst_drain),
        "--web-workers",
        str(args.web_workers),
        "--web-threads",
        str(args.web_threads),
        "--celery-workers",
        str(args.celery_workers),
        "--celery-threads",
        str(args.celery_threads),
    ]
    child = subprocess.run(command, cwd=ROOT, env=env, check=False)
    if child.returncode or not out.exists():
        return {"error": f"bench.embedded exited {child.returncode} (logs in {logs})"}
    return json.loads(out.read_text())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("logs")
    for name, kind in (
        ("--messages", int),
        ("--send-connections", int),
        ("--burst-send-limit", float),
        ("--burst-drain", float),
        ("--web-workers", int),
        ("--web-threads", int),
        ("--celery-workers", int),
        ("--celery-threads", int),
    ):
        parser.add_argument(name, type=kind, required=True)
    args = parser.parse_args()
    logs = Path(args.logs) / "embedded"
    logs.mkdir(exist_ok=True)
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, check=True)
    import django

    django.setup()
    stack = Stack(logs)
    try:
        sink_port, web_port = free_port(), free_port()
        sink, base = f"http://127.0.0.1:{sink_port}", f"http://127.0.0.1:{web_port}"
        world = create_world(sink)
        stack.start("sink", [sys.executable, "-m", "bench.sink", str(sink_port)])
        wait_for(lambda: http_get(f"{sink}/_stats") is not None, "the embedded sink")
        web = [str(BIN / "gunicorn"), "config.wsgi", "--bind", f"127.0.0.1:{web_port}"]
        web += ["--workers", str(args.web_workers), "--no-control-socket"]
        if args.web_threads > 1:
            web += ["--worker-class", "gthread", "--threads", str(args.web_threads), "--keep-alive", "0"]
        stack.start("gunicorn", web)
        wait_for(lambda: http_get(f"{base}/bench/trivial") is not None, "the embedded gunicorn")
        e2e.start_workers(stack, args)
        started = time.monotonic()
        warm = e2e.delivery_run(
            args, base, sink, logs, world["paced"], rate=None, count=1, within=10, drain_for=120
        )
        if not warm["drained"]:
            raise SystemExit("bench.embedded: the warm-up message did not arrive within 120 s")
        print(
            f"bench: embedded stack up ({time.monotonic() - started:.0f} s to the first receipt)", flush=True
        )
        burst = e2e.delivery_run(
            args,
            base,
            sink,
            logs,
            world["burst"],
            rate=None,
            count=args.messages,
            within=args.burst_send_limit,
            drain_for=args.burst_drain,
        )
        Path(args.out).write_text(json.dumps({"burst": burst}))
    finally:
        stack.stop_all()


if __name__ == "__main__":
    main()
