#!/usr/bin/env python3
"""Print the Markdown table of one bench/run from its results file (one JSON object a line).

Usage: report.py RESULTS.jsonl

Targets are issue 5's acceptance 5. Every row carries the 1-minute load average read around
the measurement, because the machine may be shared.
"""

import json
import statistics
import sys

TARGET_START_MS = 50
TARGET_IDLE_RSS_MB = 20
TARGET_CREDENTIALS_RPS = 30_000
TARGET_CPU_MS_PER_FLOW = 0.5


def mark(ok):
    return "yes" if ok else "**no**"


def mb(kb):
    return f"{kb / 1024:.1f} MB"


def load_of(record):
    before, after = record.get("loadavg_before"), record.get("loadavg_after")
    if before and after:
        return f"{before} → {after}"
    return record.get("loadavg", "")


def main():
    with open(sys.argv[1]) as f:
        records = [json.loads(line) for line in f if line.strip()]
    rows = []
    machine = next((r for r in records if r["kind"] == "machine"), None)

    starts = [r for r in records if r["kind"] == "start"]
    for record in (r for r in starts if r["name"] == "cold"):
        rows.append(("Start → first 200 on `/healthz`, new database (migrations applied)",
                     f"{record['ms']:.1f} ms", f"< {TARGET_START_MS} ms",
                     mark(record["ms"] < TARGET_START_MS), load_of(record)))
    warm = [r for r in starts if r["name"] == "restart"]
    if warm:
        times = [r["ms"] for r in warm]
        rows.append((f"Start → first 200 on `/healthz`, existing database ({len(times)} starts)",
                     f"min {min(times):.1f} ms, median {statistics.median(times):.1f} ms, "
                     f"max {max(times):.1f} ms",
                     f"< {TARGET_START_MS} ms", mark(statistics.median(times) < TARGET_START_MS),
                     " / ".join(r["loadavg"] for r in warm)))
    for record in (r for r in records if r["kind"] == "rss_idle"):
        after_start = record["name"].startswith("2 s after a start")
        rows.append((f"RSS idle ({record['name']})", mb(record["kb"]),
                     f"< {TARGET_IDLE_RSS_MB} MB" if after_start else "",
                     mark(record["kb"] < TARGET_IDLE_RSS_MB * 1024) if after_start else "",
                     record["loadavg"]))

    wrk = [r for r in records if r["kind"] == "wrk"]
    health = [r for r in wrk if r["name"] == "healthz"]
    creds = [r for r in wrk if r["name"] == "credentials_get"]
    for index, (h, c) in enumerate(zip(health, creds), start=1):
        rows.append((f"`GET /healthz`, 64 connections (round {index})",
                     f"{h['rps']:,.0f} req/s, p99 {h['p99_ms']:.2f} ms "
                     f"({h['fbgate_cpu_us_per_request']} µs CPU and "
                     f"{h.get('fbgate_context_switches_per_request')} context switches per "
                     f"request, {h['errors']} errors)",
                     "yardstick", "", load_of(h)))
        ratio = c["rps"] / h["rps"] if h["rps"] else 0
        ok = c["rps"] >= TARGET_CREDENTIALS_RPS and ratio >= 0.5 and c["errors"] == 0
        rows.append((f"`POST /v1/credentials/get`, 64 connections (round {index})",
                     f"{c['rps']:,.0f} req/s = {ratio:.0%} of `/healthz`, "
                     f"p99 {c['p99_ms']:.2f} ms ({c['fbgate_cpu_us_per_request']} µs CPU and "
                     f"{c.get('fbgate_context_switches_per_request')} context switches per "
                     f"request, {c['errors']} errors)",
                     f"≥ 50% of `/healthz` and ≥ {TARGET_CREDENTIALS_RPS:,} req/s", mark(ok),
                     load_of(c)))
        rows.append((f"RSS after the `credentials/get` run (round {index})",
                     mb(c["fbgate_rss_kb"]), "", "", ""))

    for record in (r for r in records if r["kind"] == "flows"):
        per_flow = record["fbgate_cpu_ms_per_flow"]
        ok = per_flow is not None and per_flow <= TARGET_CPU_MS_PER_FLOW and not record["errors"]
        rows.append((f"Full sign-in flows, {record['mode']}, {record['threads']} threads",
                     f"{record['flows_per_s']} flows/s ({record['flows']} in "
                     f"{record['seconds']} s, {record['errors']} errors), flow p50 "
                     f"{record['flow_ms_p50']} ms, p99 {record['flow_ms_p99']} ms",
                     "", "", load_of(record)))
        rows.append(("↳ fbgate CPU per flow",
                     f"**{per_flow} ms**, {record.get('fbgate_context_switches_per_flow')} "
                     f"context switches (emulator {record['sim_cpu_ms_per_flow']} ms, "
                     f"load tool {record['load_tool_cpu_ms_per_flow']} ms)",
                     f"≤ {TARGET_CPU_MS_PER_FLOW} ms", mark(ok), ""))
        if record["fbgate_rss_max_kb"]:
            rows.append(("↳ RSS under that load", f"max {mb(record['fbgate_rss_max_kb'])}, "
                         f"end {mb(record['fbgate_rss_end_kb'])}", "", "", ""))

    if machine:
        print(f"Run {machine['date']} on {machine['nproc']} CPUs ({machine['cpu']}), kernel "
              f"{machine['kernel']}, load average at start {machine['loadavg']}, "
              f"database {machine.get('engine', 'sqlite')}.")
        print()
    print("| Figure | Measured | Target | Met | Load avg (1 min) |")
    print("|---|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
