"""CPU cost of one planner session, in process: building its page and answering a lever move.

The steady figure behind the load targets of issue 18 (``bench_load.py`` measures the server's
wall clock, which wobbles on a shared machine; CPU time of one session does not):

* **build**: a session's page in the server's steps (:func:`whatif.app.page.create_app` in a
  Bokeh document of a session with no browser): the page request (the light first page, which
  carries the headline), the browser's first pull, and the planner built on later ticks, each
  with its messages serialized as the server sends them;
* **lever move**: one lever's slider moved, the forecast computed, every view updated and the
  patch that carries the new headline serialized: a scenario nobody asked before (the engine's
  cache of recent scenarios emptied first) and one asked before (by another session, say);

each the median CPU time (``time.process_time``) over ``--repeat`` runs after a warm-up run. The
model is loaded once before (every session of a server process shares it), with the settings
``whatif app`` serves with.

    python benchmarks/bench_session.py [--model models/demo] [--repeat 5] [--profile build|move]

``--profile`` prints the 25 functions of the most cumulative time for one run. Prints a markdown
table.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import time
import weakref
from pathlib import Path
from types import SimpleNamespace

import panel as pn
from bokeh.document import Document
from bokeh.protocol import Protocol

from whatif.app.page import create_app
from whatif.app.provider import get_provider
from whatif.app.server import collect_less_often, keep_loaded_objects
from whatif.threads import limit_blas_threads

ROOT = Path(__file__).resolve().parents[1]
LEVER = "ivr_prompts"


def _next_tick(callback) -> bool:
    return type(callback).__name__ == "NextTickCallback"


class _Context:
    """What Panel reads of a server session's context (a session served, with no browser)."""

    id = "bench"
    server_context = None
    session = None
    request = SimpleNamespace(cookies={}, headers={}, arguments={}, protocol="http", host="")


class Session:
    """One session's page in a Bokeh document, built in the server's steps, and the patches its
    changes send: the page request (the light first page), the browser's ``document_ready``
    (``pn.state.onload``: the planner up to the headline) and what is left for later ticks."""

    def __init__(self, model: Path):
        self.doc = Document()
        self.context = _Context()
        self.doc._session_context = weakref.ref(self.context)
        self.events: list = []
        self.doc.on_change(self.events.append)
        pn.state.curdoc = self.doc
        self.cpu = {}
        start = time.process_time()
        self.app = create_app(model, ROOT)
        self.doc.add_root(pn.panel(self.app).get_root(self.doc))
        self.size = len(Protocol().create("PULL-DOC-REPLY", "pull", self.doc).content_json)
        self.cpu["page"] = time.process_time() - start
        self.cpu["headline"] = self._step(pn.state._onload.pop(self.doc, []))
        self.cpu["rest"] = 0.0
        while callbacks := [c for c in self.doc.session_callbacks if _next_tick(c)]:
            for callback in callbacks:
                self.doc.remove_next_tick_callback(callback)
            self.cpu["rest"] += self._step([(c.callback, False) for c in callbacks])
        self.n_models = len(self.doc.models)

    def _step(self, callbacks) -> float:
        """Run ``callbacks`` (as the server's loop would) and serialize the patch they make."""
        self.events.clear()
        start = time.process_time()
        for callback, _ in callbacks:
            callback()
        events = [e for e in self.events if hasattr(e, "to_serializable")]
        if events:
            self.size += len(Protocol().create("PATCH-DOC", events).content_json)
        return time.process_time() - start

    def move(self, value: float) -> int:
        """Move the lever's slider (as the browser does); the bytes of the patch it sends back."""
        self.events.clear()
        pn.state.curdoc = self.doc
        self.app.sidebar.controls[LEVER].slider.value = value
        events = [e for e in self.events if hasattr(e, "to_serializable")]
        message = Protocol().create("PATCH-DOC", events)
        return len(message.content_json)


def cpu(func) -> float:
    start = time.process_time()
    func()
    return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "demo")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--profile", choices=("build", "move"), default=None)
    args = parser.parse_args()
    if not (args.model / "manifest.json").exists():
        raise SystemExit(f"{args.model}: no fitted model; run 'whatif demo' first")
    os.environ.setdefault("BOKEH_PERFORM_ERROR_DIAGNOSTICS", "false")  # as `whatif app` serves
    limit_blas_threads()  # as the command line runs (idle BLAS threads would count as CPU time)
    pn.extension()
    bundle = get_provider(args.model).start().wait().bundle  # loaded before any session
    keep_loaded_objects()  # as `whatif app` does before serving
    collect_less_often()
    control = bundle.controls[LEVER]
    low, high = control.ranges["cap"][:2]
    Session(args.model).move(low)  # warm: imports, the model's tables
    if args.profile:
        profiler = cProfile.Profile()
        session = Session(args.model) if args.profile == "move" else None
        profiler.enable()
        if session is None:
            Session(args.model)
        else:
            bundle.engine.cache.clear()
            session.move(high - 1)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
        return
    sessions = [Session(args.model) for _ in range(args.repeat)]
    fresh, again = [], []
    session = sessions[-1]
    for i in range(args.repeat):
        value = low + 1 + i % 2
        bundle.engine.cache.clear()
        fresh.append(cpu(lambda value=value: session.move(value)))
        session.move(high)
        again.append(cpu(lambda value=value: session.move(value)))
    patch = session.move(high)
    print(f"planner session, CPU time in process: {args.model}")
    print()
    print("| measure | median | min | size |")
    print("|---|---|---|---|")
    steps = (
        ("page", "the page request: the light first page, with the headline"),
        ("headline", "the browser's first pull"),
        ("rest", "the planner (later ticks: scenario bar, levers, the open tab's charts)"),
    )
    for step, what in steps:
        times = [s.cpu[step] for s in sessions]
        print(
            f"| session build, {what} | {1000 * statistics.median(times):.0f} ms | "
            f"{1000 * min(times):.0f} ms | |"
        )
    total = [sum(s.cpu.values()) for s in sessions]
    print(
        f"| session build, all | {1000 * statistics.median(total):.0f} ms | "
        f"{1000 * min(total):.0f} ms | {session.n_models} Bokeh models, "
        f"{session.size / 1000:.0f} kB |"
    )
    for what, times in (("a new scenario", fresh), ("a scenario asked before", again)):
        print(
            f"| one lever move, {what} (engine, views, patch) | "
            f"{1000 * statistics.median(times):.0f} ms | {1000 * min(times):.0f} ms | "
            f"patch {patch / 1000:.1f} kB |"
        )


if __name__ == "__main__":
    main()
