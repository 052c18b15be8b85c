"""Planner load: many people opening the planner at once, and many moving levers at once.

Targets (issue 18), on a 2-core machine: 20 sessions opened at once each show the headline within
3 s of their request; with 10 sessions moving levers at once, the new headline arrives in at most
300 ms (median) and 1 s (95th percentile).

    python benchmarks/bench_load.py [--model models/demo] [--num-procs 0] [--num-threads 0]
                                    [--sessions 20] [--movers 10] [--moves 8] [--fresh]

Starts ``whatif app`` on a free port of 127.0.0.1 (nothing else is contacted) and plays each
session with a small client of the Bokeh websocket protocol, as a browser does: it requests the
page, connects, pulls the document, announces the page as rendered (``document_ready``) and waits
for the headline's HTML (``id="headline-lift"``; the light first page has it), the levers and the
forecast tab, the last part of the first view, to arrive; each time is counted from the page
request. Movers open their pages first and wait for the whole first view; each then sets the
IVR-prompts slider back and forth between the ends of its range (questions the engine's cache of
recent scenarios answers after the first time) or, with ``--fresh``, to a value nobody else asks
for each move, and times each change to the patch carrying the new headline. Browsers' own
rendering is not included: the clients run on the same 2 cores as the server, and 20 browsers
there would measure the browsers. The number of sessions and every wait are bounded.

Prints a markdown table, with the 1-minute load average before and after (other work on the
machine slows every figure) and how the moving sessions fell to the server's processes (``ss``,
where it exists).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from tornado.httpclient import AsyncHTTPClient, HTTPRequest
from tornado.websocket import websocket_connect

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
LEVER = "IVR prompts to reach the information"
MAX_SESSIONS = 50
TIMEOUT = 120.0  # seconds any one session may take to show its headline
MARK = "headline-lift"
TAB_MARK = "Distribution of the company lift"  # the forecast tab, the last part of a first view


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class Session:
    """One planner session over the Bokeh websocket protocol (what a browser tab does)."""

    def __init__(self, port: int):
        self.port = port
        self.socket = None
        self.counter = 0
        self.slider: tuple[str, float, float] | None = None  # data model id, start, end

    async def open(self) -> tuple[float, float, float]:
        """Request the page and wait for the whole first view: seconds from the request to the
        headline, to the levers and to the forecast tab (the last part of the first view)."""
        started = time.perf_counter()
        client = AsyncHTTPClient()
        page = await client.fetch(
            HTTPRequest(f"http://{HOST}:{self.port}/", request_timeout=TIMEOUT)
        )
        token = re.search(r'"token":"([^"]+)"', page.body.decode()).group(1)
        self.socket = await websocket_connect(
            f"ws://{HOST}:{self.port}/ws", subprotocols=["bokeh", token], max_message_size=2**28
        )
        # as browsers do: each small frame at once (Bokeh sends a message as several frames)
        self.socket.protocol.set_nodelay(True)
        await self._receive()  # ACK
        await self._send("PULL-DOC-REQ", {})
        headline = levers = tab = None
        while True:
            kind, content = await self._receive()
            if kind == "PULL-DOC-REPLY":
                ready = {"type": "event", "name": "document_ready", "values": {}}
                event = {"kind": "MessageSent", "msg_type": "bokeh_event", "msg_data": ready}
                await self._send("PATCH-DOC", {"events": [event]})
            if kind in ("PULL-DOC-REPLY", "PATCH-DOC"):
                self._find_slider(content)
                if headline is None and MARK in content:
                    headline = time.perf_counter() - started
                if self.slider is not None and levers is None:
                    levers = time.perf_counter() - started
                if tab is None and TAB_MARK in content:
                    tab = time.perf_counter() - started
            if None not in (headline, levers, tab):
                return headline, levers, tab

    async def move(self, share: float) -> float:
        """Set the lever ``share`` of the way along its range; seconds until the new headline
        arrives."""
        model, start, end = self.slider
        change = {"kind": "ModelChanged", "model": {"id": model}, "attr": "value"}
        change["new"] = start + share * (end - start)
        started = time.perf_counter()
        await self._send("PATCH-DOC", {"events": [change]})
        while True:
            kind, content = await self._receive()
            if kind == "PATCH-DOC" and MARK in content:
                return time.perf_counter() - started

    def close(self) -> None:
        if self.socket is not None:
            self.socket.close()

    async def _send(self, kind: str, content: dict) -> None:
        self.counter += 1
        header = {"msgid": f"c{self.counter}", "msgtype": kind}
        for part in (header, {}, content):
            await self.socket.write_message(json.dumps(part))

    async def _receive(self) -> tuple[str, str]:
        """The next message: its type and its content as text (buffers are skipped)."""
        header = json.loads(await self._read())
        await self._read()  # metadata
        content = await self._read()
        for _ in range(2 * header.get("num_buffers", 0)):
            await self._read()
        return header["msgtype"], content

    async def _read(self):
        message = await asyncio.wait_for(self.socket.read_message(), TIMEOUT)
        if message is None:
            raise ConnectionError("the server closed the websocket")
        return message

    def _find_slider(self, content: str) -> None:
        if self.slider is not None or LEVER not in content:
            return
        for item in _objects(json.loads(content)):
            attrs = dict(_entries(item.get("attributes")))
            if attrs.get("label") == LEVER and "end" in attrs:  # a default start is left out
                self.slider = (item["id"], float(attrs.get("start", 0.0)), float(attrs["end"]))
                return


def _entries(attributes) -> list:
    if isinstance(attributes, dict) and attributes.get("type") == "map":
        return [tuple(e) for e in attributes.get("entries", [])]
    return list(attributes.items()) if isinstance(attributes, dict) else []


def _objects(node):
    """Every serialized Bokeh object (``{"type": "object", "id": ...}``) inside ``node``."""
    if isinstance(node, dict):
        if node.get("type") == "object" and "id" in node:
            yield node
        for value in node.values():
            yield from _objects(value)
    elif isinstance(node, list):
        for value in node:
            yield from _objects(value)


def _serve(model: Path, port: int, num_procs: int, num_threads: int, log) -> subprocess.Popen:
    command = [sys.executable, "-m", "whatif.cli", "app", str(model), "--port", str(port)]
    command += ["--no-show", "--num-procs", str(num_procs), "--num-threads", str(num_threads)]
    # its own process group: the processes it forks end with it
    proc = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log, start_new_session=True
    )
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"whatif app exited: {Path(log.name).read_text()[-2000:]}")
        try:
            socket.create_connection((HOST, port), timeout=1).close()
            return proc
        except OSError:
            time.sleep(0.3)
    _stop(proc)
    raise SystemExit("whatif app did not start")


def _stop(proc: subprocess.Popen) -> None:
    """End the server and the processes it forked (its process group)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


def _sessions_per_process(port: int) -> str:
    """How the open connections fall to the server's processes (``6/4``), from ``ss`` where it
    exists (Linux); ``?`` otherwise. Each moving session holds one."""
    try:
        out = subprocess.run(
            ["ss", "-tnpH", "state", "established", f"( sport = :{port} )"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return "?"
    counts = sorted(Counter(re.findall(r"pid=(\d+)", out)).values(), reverse=True)
    return "/".join(map(str, counts)) or "?"


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def _run(port: int, sessions: int, movers: int, moves: int, fresh: bool) -> dict:
    # as many page requests at once as sessions (people, each with their own browser)
    AsyncHTTPClient.configure(None, max_clients=max(sessions, movers))
    warm = Session(port)  # the model is loaded and the code warm before anyone is timed
    await warm.open()
    warm.close()
    opened = [Session(port) for _ in range(sessions)]
    times = await asyncio.gather(*(s.open() for s in opened))
    for s in opened:
        s.close()
    active = [Session(port) for _ in range(movers)]
    await asyncio.gather(*(s.open() for s in active))
    split = _sessions_per_process(port)

    async def play(i: int, session: Session) -> list[float]:
        if not fresh:  # everyone between the two ends (the slider starts high): asked before
            return [await session.move(float(m % 2 == 1)) for m in range(moves)]
        # a value nobody else asks for: every move a new scenario (no cached answer)
        return [
            await session.move((1 + i * moves + m) / (movers * moves + 2)) for m in range(moves)
        ]

    lever_times = [
        t for ts in await asyncio.gather(*(play(i, s) for i, s in enumerate(active))) for t in ts
    ]
    for s in active:
        s.close()
    return {
        "headline": [t[0] for t in times],
        "levers": [t[1] for t in times],
        "view": [t[2] for t in times],
        "lever": lever_times,
        "split": split,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "demo")
    parser.add_argument(
        "--num-procs", type=int, default=0, help="whatif app's --num-procs (0: its default)"
    )
    parser.add_argument("--num-threads", type=int, default=0)
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--movers", type=int, default=10)
    parser.add_argument("--moves", type=int, default=8)
    parser.add_argument(
        "--fresh",
        action="store_true",
        help="every move a value nobody asked for (no answer from the engine's cache)",
    )
    args = parser.parse_args()
    if not 1 <= args.sessions <= MAX_SESSIONS or not 1 <= args.movers <= MAX_SESSIONS:
        raise SystemExit(f"--sessions and --movers: between 1 and {MAX_SESSIONS}")
    if not (args.model / "manifest.json").exists():
        raise SystemExit(f"{args.model}: no fitted model; run 'whatif demo' first")
    port = _free_port()
    load_before = os.getloadavg()[0]
    with tempfile.NamedTemporaryFile("w+", suffix=".log") as log:
        server = _serve(args.model, port, args.num_procs, args.num_threads, log)
        try:
            result = asyncio.run(
                asyncio.wait_for(
                    _run(port, args.sessions, args.movers, args.moves, args.fresh), 10 * TIMEOUT
                )
            )
        except (TimeoutError, ConnectionError) as err:
            log.seek(0)
            raise SystemExit(
                f"{type(err).__name__}; the server said:\n{log.read()[-3000:]}"
            ) from None
        finally:
            _stop(server)
    lever = result["lever"]
    load = os.getloadavg()[0]
    print(
        f"planner load: {args.num_procs or 'default'} process(es), {args.num_threads} thread(s), "
        f"{args.model}; "
        f"1-minute load average {load_before:.2f} before, {load:.2f} after"
    )
    print()
    print("| measure | median | worst / p95 | target |")
    print("|---|---|---|---|")
    for key, what, target in (
        ("headline", "time to headline", "max <= 3 s"),
        ("levers", "time to the levers", "-"),
        ("view", "time to the whole first view (the forecast tab too)", "-"),
    ):
        print(
            f"| {what}, {args.sessions} sessions opened at once | "
            f"{statistics.median(result[key]):.2f} s | {max(result[key]):.2f} s (max) | {target} |"
        )
    print(
        f"| lever to new headline, {args.movers} sessions moving at once "
        f"({result['split']} of them per process, {len(lever)} moves"
        f"{', each a new scenario' if args.fresh else ', the two ends of the range'}) | "
        f"{1000 * statistics.median(lever):.0f} ms | {1000 * _percentile(lever, 0.95):.0f} ms (p95) "
        "| median <= 300 ms, p95 <= 1 s |"
    )


if __name__ == "__main__":
    main()
