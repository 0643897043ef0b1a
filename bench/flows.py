#!/usr/bin/env python3
"""Set up fbgate against the Facebook emulator, and drive full sign-in flows as load.

Python 3 standard library only. Two subcommands:

  flows.py setup --fbgate URL --sim URL --admin-token T --providers N > setup.json
      Creates an environment (operator token), N emulator apps each with a provider in fbgate
      (one per load thread, so that every thread owns its app's auto-consent), an emulator user
      per app with auto-consent, and signs in once through the first provider; prints JSON with
      the keys, the providers and the signed-in fbgate user id (who now has a stored credential).

  flows.py load --setup setup.json --pid FBGATE_PID [--sim-pid PID] --threads 8 --duration 10
                [--new-users]
      Runs whole sign-ins (authorize -> emulator dialog -> callback with the cookie ->
      POST /v1/sign-ins/exchange) from N threads, each on its own keep-alive connections, and
      prints JSON: flows per second, flow latency, fbgate's CPU time per flow (utime + stime of
      /proc/PID/stat before and after, divided by the flows), and fbgate's RSS under the load.
      By default the same person signs in again and again (a returning user: the identity is
      found, the token replaced); --new-users makes a new emulator user before every flow (an
      emulator-only call), so every flow is a sign-up.

A browser is imitated at the HTTP level: redirects are not followed but read from `Location`,
and the cookie fbgate sets at authorize is sent back with the callback.
"""

import argparse
import http.client
import json
import os
import sys
import threading
import time
from urllib.parse import urlencode, urlsplit

from procstat import context_switches, cpu_seconds, loadavg, rss_kb, thread_count

RETURN_URL = "http://app.test/after-sign-in"


class FlowError(Exception):
    """A step of a flow answered something a browser would not expect."""


class Client:
    """Keep-alive HTTP/1.1 connections, one per origin; not shared between threads."""

    def __init__(self):
        self.connections = {}

    def request(self, method, url, body=None, headers=None):
        parts = urlsplit(url)
        origin = (parts.hostname, parts.port or 80)
        path = parts.path + ("?" + parts.query if parts.query else "")
        headers = dict(headers or {})
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["content-type"] = "application/json"
        for attempt in range(2):
            conn = self.connections.get(origin)
            if conn is None:
                conn = http.client.HTTPConnection(origin[0], origin[1], timeout=30)
                self.connections[origin] = conn
            try:
                conn.request(method, path, body=payload, headers=headers)
                response = conn.getresponse()
                data = response.read()
                if response.getheader("connection", "").lower() == "close":
                    conn.close()
                    del self.connections[origin]
                return response.status, response, data
            except (http.client.HTTPException, OSError):
                conn.close()
                self.connections.pop(origin, None)
                if attempt == 1:
                    raise
        raise FlowError("unreachable")

    def json(self, method, url, body=None, token=None, expect=(200, 201)):
        headers = {"authorization": f"Bearer {token}"} if token else {}
        status, _, data = self.request(method, url, body, headers)
        if status not in expect:
            raise FlowError(f"{method} {url}: {status} {data[:300]!r}")
        return json.loads(data) if data else None


def sign_in(client, fbgate, slug, publishable_key, secret_key):
    """One whole sign-in; returns the exchange's answer."""
    query = urlencode({"publishable_key": publishable_key, "redirect_to": RETURN_URL})
    status, response, data = client.request("GET", f"{fbgate}/v1/oauth/{slug}/authorize?{query}")
    if status != 302:
        raise FlowError(f"authorize: {status} {data[:200]!r}")
    dialog = response.getheader("location")
    cookie = response.getheader("set-cookie", "").split(";", 1)[0]
    status, response, data = client.request("GET", dialog)
    if status not in (302, 303):
        raise FlowError(f"dialog: {status} {data[:200]!r}")
    callback = response.getheader("location").split("#", 1)[0]
    status, response, data = client.request("GET", callback, headers={"cookie": cookie})
    if status not in (302, 303):
        raise FlowError(f"callback: {status} {data[:200]!r}")
    returned = urlsplit(response.getheader("location"))
    params = dict(p.split("=", 1) for p in returned.query.split("&") if "=" in p)
    if "code" not in params:
        raise FlowError(f"callback returned without a code: {returned.geturl()}")
    return client.json("POST", f"{fbgate}/v1/sign-ins/exchange",
                       {"code": params["code"]}, token=secret_key, expect=(200,))


def new_facebook_user(client, sim, app_id, name):
    """Creates an emulator user and makes the app's dialog answer as them."""
    user = client.json("POST", f"{sim}/_sim/users", {"name": name})
    client.json("POST", f"{sim}/_sim/apps/{app_id}/auto-consent", {"user_id": user["id"]},
                expect=(200,))
    return user


def app_and_provider(client, fbgate, sim, secret_key, slug):
    """Registers an emulator app calling fbgate back, and a provider `slug` for it; returns
    the emulator's answer (app id and secret)."""
    app = client.json("POST", f"{sim}/_sim/apps", {
        "name": f"Bench {slug}",
        "redirect_uris": [f"{fbgate}/v1/oauth-callback/{slug}"],
        "require_appsecret_proof": True,
    })
    client.json("POST", f"{fbgate}/v1/oauth-providers", {
        "provider_kind": "preset",
        "provider_key": "facebook",
        "slug": slug,
        "client_id": app["app_id"],
        "client_secret": app["app_secret"],
        "allowed_redirect_urls": ["http://app.test/*"],
        "facebook_base_url": sim,
        "graph_base_url": sim,
    }, token=secret_key, expect=(201,))
    return app


def setup(args):
    client = Client()
    suffix = str(int(time.time() * 1000))[-8:]
    env = client.json("POST", f"{args.fbgate}/v1/environments",
                      {"slug": f"bench-{suffix}", "name": "Benchmark"}, token=args.admin_token)
    providers = []
    for index in range(args.providers):
        slug = f"fb-{index}"
        app = app_and_provider(client, args.fbgate, args.sim, env["secret_key"], slug)
        user = new_facebook_user(client, args.sim, app["app_id"], f"Bench Person {index}")
        providers.append({"slug": slug, "app_id": app["app_id"], "facebook_user_id": user["id"]})
    signed_in = sign_in(client, args.fbgate, providers[0]["slug"], env["publishable_key"],
                        env["secret_key"])
    credential = client.json("POST", f"{args.fbgate}/v1/credentials/get", {
        "provider": providers[0]["slug"],
        "user_id": signed_in["user"]["id"],
        "credential_for": "user",
    }, token=env["secret_key"], expect=(200,))
    if not credential["credential"]["access_token"]:
        raise FlowError("credentials/get gave no token")
    json.dump({
        "fbgate": args.fbgate,
        "sim": args.sim,
        "environment_id": env["id"],
        "secret_key": env["secret_key"],
        "publishable_key": env["publishable_key"],
        "providers": providers,
        "user_id": signed_in["user"]["id"],
        "credential_provider": providers[0]["slug"],
    }, sys.stdout, indent=2)
    print()


def load(args):
    with open(args.setup) as f:
        conf = json.load(f)
    providers = conf["providers"]
    if args.threads > len(providers):
        sys.exit(f"--threads {args.threads} needs as many providers; setup made {len(providers)}")
    lock = threading.Lock()
    done = {"flows": 0, "errors": 0, "first_error": None, "latencies": [], "new_users": 0}
    measuring = threading.Event()
    stop = threading.Event()

    def worker(index):
        client = Client()
        provider = providers[index]
        counter = 0
        while not stop.is_set():
            try:
                if args.new_users:
                    counter += 1
                    new_facebook_user(client, conf["sim"], provider["app_id"],
                                      f"Bench Newcomer {index}-{counter}")
                began = time.perf_counter()
                sign_in(client, conf["fbgate"], provider["slug"], conf["publishable_key"],
                        conf["secret_key"])
                took = time.perf_counter() - began
                if measuring.is_set() and not stop.is_set():
                    with lock:
                        done["flows"] += 1
                        done["latencies"].append(took)
            except (FlowError, OSError, http.client.HTTPException, ValueError) as error:
                with lock:
                    done["errors"] += 1
                    if done["first_error"] is None:
                        done["first_error"] = str(error)

    threads = [threading.Thread(target=worker, args=(i,), daemon=True)
               for i in range(args.threads)]
    for thread in threads:
        thread.start()
    time.sleep(args.warmup)

    rss_samples = []

    def sample_rss():
        while not stop.is_set():
            rss_samples.append(rss_kb(args.pid))
            time.sleep(0.2)

    cpu_before = cpu_seconds(args.pid)
    switches_before = context_switches(args.pid)
    sim_before = cpu_seconds(args.sim_pid) if args.sim_pid else None
    own_before = os.times()
    started = time.perf_counter()
    measuring.set()
    sampler = threading.Thread(target=sample_rss, daemon=True)
    sampler.start()
    load_before = loadavg()
    if args.flows:
        while True:
            with lock:
                if done["flows"] >= args.flows:
                    break
            time.sleep(0.01)
    else:
        time.sleep(args.duration)
    with lock:
        flows = done["flows"]
        stop.set()
    elapsed = time.perf_counter() - started
    cpu_after = cpu_seconds(args.pid)
    switches_after = context_switches(args.pid)
    sim_after = cpu_seconds(args.sim_pid) if args.sim_pid else None
    own_after = os.times()
    load_after = loadavg()
    for thread in threads:
        thread.join(timeout=35)
    sampler.join(timeout=1)

    latencies = sorted(done["latencies"][:flows])

    def percentile(p):
        if not latencies:
            return None
        return round(latencies[min(len(latencies) - 1, int(len(latencies) * p))] * 1000, 2)

    own_cpu = (own_after.user + own_after.system) - (own_before.user + own_before.system)
    per_flow = (lambda seconds: round(seconds * 1000 / flows, 3) if flows else None)
    json.dump({
        "mode": "sign-up (new user every flow)" if args.new_users else "returning user",
        "threads": args.threads,
        "flows": flows,
        "errors": done["errors"],
        "first_error": done["first_error"],
        "seconds": round(elapsed, 2),
        "flows_per_s": round(flows / elapsed, 1) if elapsed else None,
        "flow_ms_p50": percentile(0.50),
        "flow_ms_p99": percentile(0.99),
        "fbgate_cpu_s": round(cpu_after - cpu_before, 2),
        "fbgate_cpu_ms_per_flow": per_flow(cpu_after - cpu_before),
        "fbgate_context_switches_per_flow":
            round((switches_after - switches_before) / flows, 1) if flows else None,
        "fbgate_threads": thread_count(args.pid),
        "sim_cpu_ms_per_flow": per_flow(sim_after - sim_before) if args.sim_pid else None,
        "load_tool_cpu_ms_per_flow": per_flow(own_cpu),
        "fbgate_rss_max_kb": max(rss_samples) if rss_samples else None,
        "fbgate_rss_end_kb": rss_samples[-1] if rss_samples else None,
        "loadavg_before": load_before,
        "loadavg_after": load_after,
    }, sys.stdout)
    print()
    return 1 if flows == 0 else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("setup")
    s.add_argument("--fbgate", required=True)
    s.add_argument("--sim", required=True)
    s.add_argument("--admin-token", required=True)
    s.add_argument("--providers", type=int, default=8)
    l = sub.add_parser("load")
    l.add_argument("--setup", required=True)
    l.add_argument("--pid", type=int, required=True, help="fbgate serve's pid")
    l.add_argument("--sim-pid", type=int, help="the emulator's pid, to report its CPU too")
    l.add_argument("--threads", type=int, default=8)
    l.add_argument("--duration", type=float, default=10.0, help="seconds of measured load")
    l.add_argument("--flows", type=int, help="measure this many flows instead of a duration")
    l.add_argument("--warmup", type=float, default=1.0, help="seconds of unmeasured load first")
    l.add_argument("--new-users", action="store_true")
    args = parser.parse_args()
    if args.command == "setup":
        setup(args)
        return 0
    return load(args)


if __name__ == "__main__":
    sys.exit(main())
