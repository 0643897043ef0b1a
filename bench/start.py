#!/usr/bin/env python3
"""Start a server and measure the time from process start to its first 200 on a URL.

Usage: start.py --url http://127.0.0.1:PORT/healthz --log FILE --pidfile FILE -- CMD [ARGS...]

The command is started with this process's environment, its output going to the log file, and
left running when this script exits (the caller stops it by the pid written to the pid file).
Prints one line: the milliseconds from just before the exec to the first 200 answer.

Polling uses a raw socket (a new connection every 0.5 ms until one is accepted and answers),
so the figure is the server's own readiness, not the cost of starting curl in a loop.
"""

import argparse
import socket
import subprocess
import sys
import time
from urllib.parse import urlsplit


def first_status(host, port, path, timeout):
    """Returns the HTTP status of one GET, or None when the server does not answer yet."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as conn:
            request = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n"
            conn.sendall(request.encode())
            data = b""
            while b"\r\n" not in data:
                chunk = conn.recv(256)
                if not chunk:
                    return None
                data += chunk
            parts = data.split(b" ", 2)
            return int(parts[1])
    except (OSError, ValueError, IndexError):
        return None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--log", required=True)
    parser.add_argument("--pidfile", required=True)
    parser.add_argument("--timeout", type=float, default=30.0)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command given")
    url = urlsplit(args.url)
    host, port, path = url.hostname, url.port, url.path or "/"

    log = open(args.log, "ab")
    started = time.perf_counter()
    process = subprocess.Popen(
        command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    with open(args.pidfile, "w") as f:
        f.write(f"{process.pid}\n")
    deadline = started + args.timeout
    while True:
        status = first_status(host, port, path, 1.0)
        if status == 200:
            elapsed_ms = (time.perf_counter() - started) * 1000.0
            print(f"{elapsed_ms:.1f}")
            return 0
        if process.poll() is not None:
            print(f"the server exited with status {process.returncode}; see {args.log}",
                  file=sys.stderr)
            return 1
        if time.perf_counter() > deadline:
            print(f"no 200 from {args.url} within {args.timeout} s", file=sys.stderr)
            return 1
        time.sleep(0.0005)


if __name__ == "__main__":
    sys.exit(main())
