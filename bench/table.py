"""The printed table: each figure beside its same-run reference, target and check."""

from __future__ import annotations


def table(results: dict) -> str:
    """Figures 1-6 are issue 12's; the recipe, memory and reports figures follow unnumbered."""
    rows = [("figure", "measured", "reference (same run)", "ratio", "target", "met", "check")]
    burst = results.get("end_to_end", {}).get("burst")
    peer = results.get("peer")
    if peer and burst:
        ratio = burst["deliveries_per_second"] / max(peer["deliveries_per_second"], 0.1)
        rows.append(
            (
                f"1 peer, {peer['accepted']} msgs x {peer['destinations']}",
                f"ours {burst['deliveries_per_second']:.0f} deliveries/s",
                f"{peer['name']} {peer['deliveries_per_second']:.0f} deliveries/s over {peer['seconds']:.0f} s",
                f"{ratio:.2f}",
                ">= 3x",
                yes(ratio >= 3),
                check(peer),
            )
        )
    if burst:
        paced = results["end_to_end"]["paced"]
        before, after = (results[name]["per_second"] for name in ("sink_reference", "sink_reference_after"))
        reference = (before + after) / 2
        ratio = burst["deliveries_per_second"] / reference
        rows.append(
            (
                f"2 e2e throughput, {burst['accepted']} msgs x {burst['destinations']}",
                f"{burst['deliveries_per_second']:.0f} deliveries/s over {burst['seconds']:.0f} s",
                f"requests.Session x4 {reference:.0f}/s ({before:.0f} before, {after:.0f} after)",
                f"{ratio:.2f}",
                ">= 0.8",
                yes(ratio >= 0.8),
                check(burst),
            )
        )
        rows.append(
            (
                f"3 latency, {paced['offered_per_second']:.0f} msg/s offered",
                f"p50 {paced['latency']['p50_ms']:.0f} p99 {paced['latency']['p99_ms']:.0f} ms",
                f"(sent {paced['sent_per_second']:.0f} msg/s, {paced['deliveries_per_second']:.0f} deliveries/s)",
                "",
                "p99 < 100 ms",
                yes(paced["latency"]["p99_ms"] < 100),
                check(paced),
            )
        )
        for hop, h in paced.get("hops", {}).items():
            rows.append(
                (
                    f"  3 hop: {hop}",
                    f"p50 {h['p50_ms']:.1f} p99 {h['p99_ms']:.1f} ms",
                    "",
                    f"{h['share']:.0%}",
                    "",
                    "",
                    "",
                )
            )
        for name, run in (("2", burst), ("3", paced)):
            rows.append(
                (
                    f"  {name} CPU per message: workers, web, PostgreSQL, Redis, whole machine",
                    cpu_cell(
                        run.get("cpu_ms_per_message", {}),
                        ("workers", "web", "database", "redis", "machine"),
                        1,
                    ),
                    "",
                    "",
                    "",
                    "",
                    "",
                )
            )
        isolation = results["isolation"]
        with_hang, without_hang = isolation["with_hang"], isolation["without_hang"]
        rows.append(
            (
                "4 isolation, + a destination hanging 30 s",
                f"fast p99 {with_hang['latency']['p99_ms']:.0f} ms",
                f"without it (alternating): p99 {without_hang['latency']['p99_ms']:.0f} ms",
                f"{isolation['ratio']:.2f}",
                "<= 1.1x",
                yes(isolation["ratio"] <= 1.1),
                check(with_hang) if check(without_hang) == "exactly once" else check(without_hang),
            )
        )
        rows.append(
            (
                "  4 CPU per message without / with it: workers, web, PostgreSQL, Redis, machine",
                " | ".join(
                    cpu_cell(run["cpu_ms_per_message"], ("workers", "web", "database", "redis", "machine"), 1)
                    for run in (without_hang, with_hang)
                ),
                "",
                "",
                "",
                "",
                "",
            )
        )
    for connections, f in results.get("ingest", {}).items():
        g, t = f["gateway"], f["trivial"]
        rows.append(
            (
                f"5 ingest, {connections} connections",
                f"{g['per_second']:.0f}/s p50 {g['p50_ms']:.1f} p99 {g['p99_ms']:.1f} ms",
                f"trivial view {t['per_second']:.0f}/s p50 {t['p50_ms']:.1f} p99 {t['p99_ms']:.1f} ms",
                f"{f['ratio']:.2f}",
                ">= 0.5",
                yes(f["ratio"] >= 0.5),
                "all stored" if f["all_accepted_stored"] else "LOST",
            )
        )
        parts = ("web", "load", "machine")
        rows.append(
            (
                f"  5 CPU per request ({connections}): web, load generator, whole machine",
                cpu_cell(g.get("cpu_ms_per_request", {}), parts, 2),
                "trivial view " + cpu_cell(t.get("cpu_ms_per_request", {}), parts, 2),
                "",
                "",
                "",
                "",
            )
        )
    embedded = results.get("embedded")
    if embedded:
        e = embedded.get("burst")
        rows.append(
            (
                f"6 embedded (SQLite, filesystem broker), {e['accepted']} msgs x {e['destinations']}"
                if e
                else "6 embedded (SQLite, filesystem broker)",
                f"{e['deliveries_per_second']:.0f} deliveries/s over {e['seconds']:.0f} s"
                if e
                else embedded["error"],
                f"PostgreSQL + Redis (figure 2): {burst['deliveries_per_second']:.0f}/s" if burst else "",
                f"{e['deliveries_per_second'] / burst['deliveries_per_second']:.2f}" if e and burst else "",
                "",
                "",
                check(e) if e else "FAILED",
            )
        )
    recipes = results.get("recipes") or {}
    warm, cold = recipes.get("warm, message form"), recipes.get("cold (fresh V8 context), message form")
    if warm:
        rows.append(
            (
                "recipe per message (warm context)",
                f"median {warm['median_ms']:.2f} p99 {warm['p99_ms']:.2f} ms",
                f"cold context: median {cold['median_ms']:.2f} ms" if cold else "",
                "",
                "median < 2 ms",
                yes(warm["median_ms"] < 2),
                "",
            )
        )
    if "memory" in results:
        memory = results["memory"]
        rows.append(
            (
                "peak RSS after figure 2",
                f"web {memory['web_mib']:.0f} MiB, worker {memory['worker_mib']:.0f} MiB",
                "",
                "",
                "",
                "",
                "",
            )
        )
    if "reports" in results:
        r = results["reports"]
        stored = f"{r['incoming_stored']:,} msgs, {r['attempts_stored']:,} attempts (loaded in {r['load_seconds']:.0f} s)"
        for label, key in (
            ("overview, 30 days by hour", "overview_30_days_by_hour_ms"),
            ("log, first page", "log_first_page_ms"),
        ):
            rows.append(
                (
                    f"reports: {label}",
                    f"median {r[key]:.0f} ms",
                    f"trivial view median {r['trivial_view_ms']:.1f} ms",
                    "",
                    "median < 300 ms",
                    yes(r[key] < 300),
                    stored,
                )
            )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        " | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    lines.insert(1, "-+-".join("-" * width for width in widths))
    return "\n".join(lines)


def cpu_cell(cpu: dict[str, float], parts: tuple[str, ...], digits: int) -> str:
    """CPU milliseconds of each part, ``a / b / c ms``."""
    return " / ".join(f"{cpu.get(part, 0):.{digits}f}" for part in parts) + " ms"


def yes(met: bool) -> str:
    return "yes" if met else "NO"


def check(run: dict) -> str:
    if not run["drained"]:
        return f"INCOMPLETE ({run['deliveries']} of {run['accepted'] * run['destinations']})"
    refused = run["sent"] - run["accepted"] if "sent" in run else 0
    if refused:
        return f"{refused} REFUSED"
    return "exactly once" if run["exactly_once"] else "MISMATCH"
