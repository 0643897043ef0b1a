#!/usr/bin/env python3
"""Run wrk once against fbgate and print one JSON line: wrk's figures plus fbgate's side.

Usage: wrk_run.py --name NAME --pid FBGATE_PID --script FILE.lua [--threads 2]
                  [--connections 64] [--duration 10] URL

Besides requests per second and latency (from the `BENCH` line of bench/wrk/report.lua), it
records the load average before and after, fbgate's CPU time per request (utime + stime of
/proc/PID/stat around the run) and fbgate's RSS right after the run.
"""

import argparse
import json
import os
import subprocess
import sys

from procstat import context_switches, cpu_seconds, loadavg, rss_kb, thread_count


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--name", required=True)
    parser.add_argument("--pid", type=int, required=True)
    parser.add_argument("--script", required=True)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("url")
    args = parser.parse_args()

    command = ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{args.duration}s",
               "--latency", "-s", args.script, args.url]
    load_before = loadavg()
    cpu_before = cpu_seconds(args.pid)
    switches_before = context_switches(args.pid)
    run = subprocess.run(command, capture_output=True, text=True)
    cpu_after = cpu_seconds(args.pid)
    switches_after = context_switches(args.pid)
    load_after = loadavg()
    rss = rss_kb(args.pid)
    sys.stderr.write(run.stdout)
    if run.returncode != 0:
        sys.stderr.write(run.stderr)
        return run.returncode
    figures = {}
    for line in run.stdout.splitlines():
        if line.startswith("BENCH "):
            for pair in line.split()[1:]:
                key, value = pair.split("=", 1)
                figures[key] = float(value)
    if not figures:
        sys.stderr.write("wrk printed no BENCH line\n")
        return 1
    errors = sum(v for k, v in figures.items() if k.startswith("errors_"))
    requests = figures["requests"]
    print(json.dumps({
        "kind": "wrk",
        "name": args.name,
        "command": " ".join(command[:-3] + [os.path.basename(args.script), args.url]),
        "rps": figures["rps"],
        "p50_ms": figures["p50_ms"],
        "p99_ms": figures["p99_ms"],
        "max_ms": figures["max_ms"],
        "requests": int(requests),
        "errors": int(errors),
        "fbgate_cpu_us_per_request": round((cpu_after - cpu_before) * 1e6 / requests, 2)
        if requests else None,
        "fbgate_context_switches_per_request":
            round((switches_after - switches_before) / requests, 2) if requests else None,
        "fbgate_threads": thread_count(args.pid),
        "fbgate_rss_kb": rss,
        "loadavg_before": load_before,
        "loadavg_after": load_after,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
