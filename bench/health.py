#!/usr/bin/env python3
"""The health job's cost: fbgate's CPU time per 1,000 credentials checked.

Python 3 standard library only.

  health.py --fbgate URL --sim URL --admin-token T --pid FBGATE_PID [--count 1000] [--rounds 3]

Creates an environment, an emulator app with a provider for it, and COUNT connections through
the public connect flow (POST /v1/connect-sessions, then the browser's walk: authorize ->
emulator dialog with auto-consent -> callback with the cookie), so that COUNT real long-lived
tokens are stored. Then, ROUNDS times, runs `POST /v1/credentials/check {"all": true}`, which
checks every credential with `debug_token` in Graph batches of 50 exactly as the scheduled job
does, and reads fbgate's utime + stime from /proc/PID/stat before and after. Prints one JSON
line per round: wall seconds, fbgate CPU seconds, CPU ms per 1,000 credentials.
"""

import argparse
import json
import sys
import time
from urllib.parse import urlsplit

from flows import Client, FlowError, app_and_provider
from procstat import cpu_seconds, loadavg

RETURN_URL = "http://app.test/connected"


def connect(client, fbgate, sim, app_id, secret_key, slug, index):
    user = client.json("POST", f"{sim}/_sim/users", {"name": f"Health Person {index}"})
    client.json("POST", f"{sim}/_sim/apps/{app_id}/auto-consent", {"user_id": user["id"]},
                expect=(200,))
    session = client.json("POST", f"{fbgate}/v1/connect-sessions", {
        "provider": slug,
        "tenant_id": f"tenant-{index % 10}",
        "user_id": f"user-{index}",
        "redirect_to": RETURN_URL,
    }, token=secret_key, expect=(201,))
    status, response, data = client.request("GET", session["authorization_url"])
    if status != 302:
        raise FlowError(f"authorize: {status} {data[:200]!r}")
    cookie = response.getheader("set-cookie", "").split(";", 1)[0]
    status, response, data = client.request("GET", response.getheader("location"))
    if status not in (302, 303):
        raise FlowError(f"dialog: {status} {data[:200]!r}")
    callback = response.getheader("location").split("#", 1)[0]
    status, response, data = client.request("GET", callback, headers={"cookie": cookie})
    returned = urlsplit(response.getheader("location") or "")
    if status != 302 or "connection_id=" not in returned.query:
        raise FlowError(f"callback: {status} {returned.geturl()} {data[:200]!r}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--fbgate", required=True)
    parser.add_argument("--sim", required=True)
    parser.add_argument("--admin-token", required=True)
    parser.add_argument("--pid", type=int, required=True)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    client = Client()
    suffix = str(int(time.time() * 1000))[-8:]
    env = client.json("POST", f"{args.fbgate}/v1/environments",
                      {"slug": f"health-{suffix}", "name": "Health benchmark"},
                      token=args.admin_token)
    slug = "facebook"
    app = app_and_provider(client, args.fbgate, args.sim, env["secret_key"], slug)
    started = time.monotonic()
    for index in range(args.count):
        connect(client, args.fbgate, args.sim, app["app_id"], env["secret_key"], slug, index)
        if (index + 1) % 100 == 0:
            print(f"\rconnected {index + 1}/{args.count}", end="", file=sys.stderr)
    print(f"\rconnected {args.count} in {time.monotonic() - started:.1f} s", file=sys.stderr)

    for round_number in range(1, args.rounds + 1):
        load = loadavg()
        cpu_before = cpu_seconds(args.pid)
        wall_before = time.monotonic()
        answer = client.json("POST", f"{args.fbgate}/v1/credentials/check", {"all": True},
                             token=env["secret_key"], expect=(200,))
        wall = time.monotonic() - wall_before
        cpu = cpu_seconds(args.pid) - cpu_before
        statuses = {}
        for entry in answer["data"]:
            statuses[entry["status"]] = statuses.get(entry["status"], 0) + 1
        if statuses.get("active", 0) != args.count:
            raise FlowError(f"expected {args.count} active credentials, got {statuses}")
        print(json.dumps({
            "round": round_number,
            "credentials": args.count,
            "wall_s": round(wall, 3),
            "fbgate_cpu_s": round(cpu, 3),
            "cpu_ms_per_1000": round(cpu * 1000 * 1000 / args.count, 1),
            "loadavg": load,
        }))


if __name__ == "__main__":
    main()
