#!/usr/bin/env python3
"""Helpers of bench/credentials: API setup before seeding, and the Markdown table at the end.

Python 3 standard library only. Two subcommands:

  credentials.py setup --fbgate URL --admin-token T --provider SLUG > setup.json
      Creates an environment (operator token) and a Facebook provider in it (secret key) through
      the public API, and prints JSON with the environment's slug, id and secret key. The
      provider points at an address where nothing listens: `credentials/get` never calls
      Facebook, and the seeded credentials are not due for a health check for a day.

  credentials.py report RESULTS.jsonl
      Prints the table of one run from its results file (one JSON object a line, written by
      bench/credentials, bench/wrk_run.py, the seeder and the SDK example).
"""

import argparse
import json
import secrets
import sys

from flows import Client


def setup(args):
    client = Client()
    suffix = secrets.token_hex(4)
    env = client.json("POST", f"{args.fbgate}/v1/environments",
                      {"slug": f"bench-{suffix}", "name": "Credentials benchmark"},
                      token=args.admin_token)
    nowhere = "http://127.0.0.1:9"
    client.json("POST", f"{args.fbgate}/v1/oauth-providers", {
        "provider_kind": "preset",
        "provider_key": "facebook",
        "slug": args.provider,
        "client_id": "1234567890123456",
        "client_secret": secrets.token_hex(16),
        "allowed_redirect_urls": ["http://app.test/*"],
        "facebook_base_url": nowhere,
        "graph_base_url": nowhere,
    }, token=env["secret_key"], expect=(201,))
    json.dump({
        "environment_slug": env["slug"],
        "environment_id": env["id"],
        "secret_key": env["secret_key"],
        "provider": args.provider,
    }, sys.stdout, indent=2)
    print()


def mb(kb):
    return f"{kb / 1024:.1f} MB"


def size(octets):
    if octets >= 1024 ** 3:
        return f"{octets / 1024 ** 3:.2f} GB"
    return f"{octets / 1024 ** 2:.0f} MB"


def load_of(record):
    return f"{record.get('loadavg_before', '')} → {record.get('loadavg_after', '')}"


WRK_LABELS = {
    "healthz": "`GET /healthz` (yardstick)",
    "spread": "`credentials/get`, a random tenant user of {credentials:,} each request",
    "hot": "`credentials/get`, one hot tenant user",
}


def report(args):
    with open(args.results) as f:
        records = [json.loads(line) for line in f if line.strip()]
    machine = next((r for r in records if r["kind"] == "machine"), None)
    if machine:
        print(f"Run {machine['date']} on {machine['nproc']} CPUs ({machine['cpu']}), kernel "
              f"{machine['kernel']}, load average at start {machine['loadavg']}; "
              f"{machine['credentials']:,} credentials over {machine['tenants']:,} tenants, "
              f"wrk -t2 -c{machine['connections']} -d{machine['duration']}s.")
        print()

    print("| Engine | Measurement | req/s | p50 | p99 | Errors | fbgate CPU / req "
          "| fbgate RSS after | Load avg (1 min) |")
    print("|---|---|---|---|---|---|---|---|---|")
    rounds = max((r.get("round", 1) for r in records if r["kind"] == "wrk"), default=1)
    engines = []
    for record in records:
        if record.get("engine") and record["engine"] not in engines:
            engines.append(record["engine"])
    for engine in engines:
        seed = next((r for r in records if r["kind"] == "seed" and r["engine"] == engine), None)
        credentials = seed["credentials"] if seed else 0
        for record in (r for r in records if r["kind"] == "wrk" and r["engine"] == engine):
            label = WRK_LABELS.get(record["name"], record["name"]).format(credentials=credentials)
            if rounds > 1:
                label += f" (round {record.get('round')})"
            print(f"| {engine} | {label} | {record['rps']:,.0f} | {record['p50_ms']:.2f} ms "
                  f"| {record['p99_ms']:.2f} ms | {record['errors']} "
                  f"| {record['fbgate_cpu_us_per_request']} µs "
                  f"| {mb(record['fbgate_rss_kb'])} | {load_of(record)} |")
    print()

    print("| Engine | Seeded | Seeding time | Database size | fbgate RSS idle after seeding |")
    print("|---|---|---|---|---|")
    for engine in engines:
        seed = next((r for r in records if r["kind"] == "seed" and r["engine"] == engine), None)
        db = next((r for r in records if r["kind"] == "db_size" and r["engine"] == engine), None)
        idle = next((r for r in records if r["kind"] == "rss_idle" and r["engine"] == engine),
                    None)
        if not seed:
            continue
        db_text = ""
        if db:
            db_text = size(db["bytes"])
            if db.get("wal_bytes"):
                db_text += f" + {size(db['wal_bytes'])} write-ahead log"
            if db.get("credentials_bytes"):
                db_text += f" (credentials table with indexes {size(db['credentials_bytes'])})"
        phases = ""
        if "sealing_seconds" in seed:
            phases = (f"; {seed['workers']} workers spent {seed['sealing_seconds']:.0f} s sealing, "
                      f"{seed['inserting_seconds']:.0f} s inserting")
        print(f"| {engine} | {seed['credentials']:,} credentials, {seed['tenants']:,} tenants "
              f"| {seed['wall_seconds']:.0f} s ({seed['credentials'] / seed['wall_seconds']:,.0f} "
              f"rows/s{phases}) | {db_text} | {mb(idle['kb']) if idle else ''} |")

    sdk = [r for r in records if r["kind"] == "sdk"]
    if sdk:
        print()
        print("| Rust SDK `get_credential`, cache hits | Addresses in the cache | calls/s "
              "| ns per call per task |")
        print("|---|---|---|---|")
        for record in sdk:
            per_call = record["tasks"] * 1e9 / record["calls_per_s"] if record["calls_per_s"] else 0
            print(f"| {record['tasks']} task(s) on {record['threads']} worker threads "
                  f"| {record['addresses']:,} | {record['calls_per_s']:,.0f} | {per_call:.0f} |")
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("setup")
    s.add_argument("--fbgate", required=True)
    s.add_argument("--admin-token", required=True)
    s.add_argument("--provider", default="facebook")
    r = sub.add_parser("report")
    r.add_argument("results")
    args = parser.parse_args()
    if args.command == "setup":
        setup(args)
        return 0
    return report(args)


if __name__ == "__main__":
    sys.exit(main())
