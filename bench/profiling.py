"""``--profile``: py-spy samples of the processes under load and PostgreSQL's wait events."""

from __future__ import annotations

import signal
import subprocess
import threading
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

from bench.stack import BIN, DB_NAME, PG_SERVER, RESULTS


class Profiler:
    """With --profile: while a block runs, py-spy samples the given processes (``--gil``: only the
    thread holding the GIL, i.e. where Python spends CPU) and PostgreSQL's sessions are sampled
    for what they wait on; both are summarised in bench/results/profile-NAME.txt."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.targets: dict[str, list[int]] = {}

    @contextmanager
    def __call__(self, name: str | None):
        if not (self.enabled and name):
            yield
            return
        spies = [
            subprocess.Popen(
                [
                    str(BIN / "py-spy"),
                    "record",
                    "--pid",
                    str(pid),
                    "--gil",
                    "--nonblocking",
                    "--rate",
                    "200",
                    "--format",
                    "raw",
                    "--output",
                    str(RESULTS / f"profile-{name}-{pid}.raw"),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for pid in self.targets[name]
        ]
        stop = threading.Event()
        waits: Counter[str] = Counter()
        sampler = threading.Thread(target=sample_database_waits, args=(stop, waits))
        sampler.start()
        try:
            yield
        finally:
            stop.set()
            sampler.join()
            for spy in spies:
                spy.send_signal(signal.SIGINT)
            for spy in spies:
                spy.wait(30)
            raw = sorted(RESULTS.glob(f"profile-{name}-*.raw"))
            summary = summarise_profile(raw) + summarise_waits(waits)
            for path in raw:
                path.unlink()
            (RESULTS / f"profile-{name}.txt").write_text(summary)
            print(f"profile {name}:\n{summary}", flush=True)


def sample_database_waits(stop: threading.Event, waits: Counter[str]) -> None:
    """Every 50 ms, what each active session of the bench database is doing or waiting on."""
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/{DB_NAME}", autocommit=True) as connection:
        while not stop.wait(0.05):
            for wait, query in connection.execute(
                "SELECT coalesce(wait_event_type || ':' || wait_event, 'CPU'), left(query, 60)"
                " FROM pg_stat_activity WHERE datname = %s AND state = 'active' AND pid <> pg_backend_pid()",
                [DB_NAME],
            ):
                waits[f"{wait:28} {' '.join(query.split())}"] += 1
            waits["(samples)"] += 1


def summarise_waits(waits: Counter[str], top: int = 15) -> str:
    samples = waits.pop("(samples)", 0)
    if not samples:
        return ""
    lines = [f"PostgreSQL, active sessions per sample ({samples} samples), by wait and query:"]
    lines += [f"  {count / samples:6.2f}  {what}" for what, count in waits.most_common(top)]
    return "\n".join(lines) + "\n"


def _frame(frame: str) -> str:
    """``function (path/to/file.py:12)`` -> ``function (to/file.py)``."""
    function, _, where = frame.partition(" (")
    return f"{function} ({'/'.join(where.split(':')[0].split('/')[-2:])})" if where else frame


def summarise_profile(paths: list[Path], top: int = 40) -> str:
    """The functions holding the most GIL samples: inclusive (with what they call) and self."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for path in paths:
        for line in path.read_text().splitlines():
            stack, _, samples = line.rpartition(" ")
            if not stack:
                continue
            frames = [_frame(frame) for frame in stack.split(";")]
            total += int(samples)
            for frame in set(frames):
                inclusive[frame] += int(samples)
            own[frames[-1]] += int(samples)
    if not total:
        return "no samples\n"
    lines = [f"{total} samples of the GIL holder over {len(paths)} process(es); inclusive:"]
    lines += [f"  {100 * count / total:5.1f}%  {frame}" for frame, count in inclusive.most_common(top)]
    lines += ["self:"] + [f"  {100 * count / total:5.1f}%  {frame}" for frame, count in own.most_common(top)]
    return "\n".join(lines) + "\n"
