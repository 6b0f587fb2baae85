"""The web kitchen's live training: how often the page is updated, and what watching costs training.

    python benchmarks/web.py [--steps 3000] [--n-embd 32] [--batch-size 8] [--repeats 3] [--browser]

A server (the real app, uvicorn, in this process as `omakase web` runs it) trains the same run
--repeats times unwatched and --repeats times watched, alternating: watched by an event-stream
reader in another process (counting the events it receives per second), and with --browser also
by the page itself in Debian's Chromium (its own count of updates per second, read from the page).
Training time is the session's own (snapshots included, pauses excluded); the slowdown is the
median watched time over the median unwatched time, minus one. It also reports the page's weight:
every file the page loads, raw and gzipped, and the time of the requests a reader makes by hand (the
temperature and dial sliders, tracing, the header's held-out loss) on the checkpoint the first run saved,
with the machine's load average. Nothing here is asserted; it prints what it measured.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import uvicorn

from omakase.web.app import create_app

# An event-stream reader in its own process: prints {"events": n, "seconds": s} when the stream ends.
READER = """
import json, sys, time, httpx
n, start = 0, None
with httpx.stream("GET", sys.argv[1] + "api/training/events", timeout=None) as r:
    for line in r.iter_lines():
        if line.startswith("data: "):
            n += 1
            start = start or time.perf_counter()
            if json.loads(line[6:])["state"] not in ("running", "paused"):
                break
print(json.dumps({"events": n, "seconds": time.perf_counter() - start}))
"""
PAGE_FILES = ["", "static/web.css", "static/draw.js", "static/web.js", "static/more.js", "static/talk.js", "api/catalogue/en"]
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--disable-sync",
        "--disable-quic", "--disable-background-networking", "--disable-component-update",
        "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost, EXCLUDE 127.0.0.1"]


def serve(runs: Path) -> tuple[str, uvicorn.Server]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(runs), host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}/", server


def finish(base: str) -> dict:
    while (status := httpx.get(base + "api/training").json())["state"] in ("running", "paused"):
        time.sleep(0.5)  # two light polls a second: negligible beside the run
    return status


def unwatched(base: str, dials: dict) -> float:
    httpx.post(base + "api/training", json=dials).raise_for_status()
    return finish(base)["seconds"]


def streamed(base: str, dials: dict) -> tuple[float, float]:
    httpx.post(base + "api/training", json=dials).raise_for_status()
    out = subprocess.run([sys.executable, "-c", READER, base], capture_output=True, text=True, check=True)
    got = json.loads(out.stdout)
    return finish(base)["seconds"], got["events"] / got["seconds"]


def in_browser(base: str, dials: dict) -> tuple[float, float]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(base + "?chapter=train")
        page.wait_for_load_state("networkidle")
        for name, value in dials.items():
            page.fill(f"input[name={name}]", str(value))
        page.evaluate("window.__rates = []; setInterval(() => window.__rates.push(live.times.length), 250)")
        page.click("#train-start")
        page.wait_for_function("live.status.state == 'running'")
        page.wait_for_function("!['running', 'paused'].includes(live.status.state)", timeout=600_000)
        rates = page.evaluate("window.__rates")
        browser.close()
    steady = [r for r in rates[4:-4] if r] or rates  # the page's own count of updates in the last second
    return finish(base)["seconds"], statistics.median(steady)


def interactions(base: str, checkpoint: str, repeats: int) -> dict:
    """Milliseconds per request of what a reader does by hand, median and range over `repeats` requests:
    a step of the temperature slider (the vote of a name at a new temperature), a step of the dial slider
    (turn, and score the name before and after), tracing a course node by node, and the header's held-out
    loss (measured on every held-out menu the first time a checkpoint is opened, then kept)."""
    asks = {
        "slider_vote": lambda i: httpx.get(base + "api/votes", params={"checkpoint": checkpoint, "name": "emma",
                                                                      "temperature": 0.5 + 0.01 * i}),
        "dial_turn": lambda i: httpx.post(base + "api/turn", json={"checkpoint": checkpoint, "matrix": "wte", "row": 12,
                                                                   "col": 6, "delta": 0.01 * i, "name": "emma"}),
        "trace_course": lambda i: httpx.get(base + "api/trace/course", timeout=60,
                                            params={"checkpoint": checkpoint, "name": "emma"}),
        "header_cached": lambda i: httpx.get(base + "api/model", params={"checkpoint": checkpoint}),
    }
    first = time.perf_counter()
    httpx.get(base + "api/model", params={"checkpoint": checkpoint}, timeout=60).raise_for_status()
    out = {"header_first_ms": 1000 * (time.perf_counter() - first)}
    for name, ask in asks.items():
        times = []
        for i in range(repeats):
            start = time.perf_counter()
            ask(i).raise_for_status()
            times.append(1000 * (time.perf_counter() - start))
        out[name + "_ms"] = {"median": statistics.median(times), "min": min(times), "max": max(times)}
    return out


def weight(base: str) -> dict:
    files = {name or "index.html": httpx.get(base + name).content for name in PAGE_FILES}
    return {"files": {k: len(v) for k, v in files.items()}, "bytes": sum(map(len, files.values())),
            "gzipped": sum(len(gzip.compress(v)) for v in files.values())}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--n-embd", type=int, default=32)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--browser", action="store_true", help="also watch with the page in Chromium")
    args = ap.parse_args()
    dials = {"steps": args.steps, "n_embd": args.n_embd, "batch_size": args.batch_size}
    runs = Path(tempfile.mkdtemp(prefix="omakase-web-bench-"))
    base, server = serve(runs)
    try:
        print(json.dumps({"page_weight": weight(base)}))
        alone, stream, page = [], [], []
        for _ in range(args.repeats):
            alone.append(unwatched(base, dials))
            stream.append(streamed(base, dials))
            if args.browser:
                page.append(in_browser(base, dials))
        saved = httpx.get(base + "api/checkpoints").json()["default"]
        report = {"load_average": os.getloadavg(), "interactions": interactions(base, saved, 5 * args.repeats),
                  "dials": dials, "unwatched_s": alone, "steps_per_s": args.steps / statistics.median(alone),
                  "stream": {"seconds": [s for s, _ in stream], "updates_per_s": [r for _, r in stream],
                             "slowdown": statistics.median(s for s, _ in stream) / statistics.median(alone) - 1}}
        if page:
            report["browser"] = {"seconds": [s for s, _ in page], "updates_per_s": [r for _, r in page],
                                 "slowdown": statistics.median(s for s, _ in page) / statistics.median(alone) - 1}
        print(json.dumps(report, indent=1))
    finally:
        server.should_exit = True
        shutil.rmtree(runs, ignore_errors=True)


if __name__ == "__main__":
    main()
