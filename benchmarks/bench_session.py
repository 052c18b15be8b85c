"""CPU cost of one planner session, in process: building its page and answering a lever move.

The steady figure behind the load targets of issue 18 (``bench_load.py`` measures the server's
wall clock, which wobbles on a shared machine; CPU time of one session does not):

* **build**: a session's page up to the headline, as the server does it: the planner of one
  session (:func:`whatif.app.page.create_app`) put into a Bokeh document and the document
  serialized as the first pull sends it;
* **lever move**: one lever's slider moved, the forecast computed, every view updated and the
  patch that carries the new headline serialized: a scenario nobody asked before (the engine's
  cache of recent scenarios emptied first) and one asked before (by another session, say);

each the median CPU time (``time.process_time``) over ``--repeat`` runs after a warm-up run. The
model is loaded once before (every session of a server process shares it).

    python benchmarks/bench_session.py [--model models/demo] [--repeat 5] [--profile build|move]

``--profile`` prints the 25 functions of the most cumulative time for one run. Prints a markdown
table.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import time
from pathlib import Path

import panel as pn
from bokeh.document import Document
from bokeh.protocol import Protocol

from whatif.app.bundle import load_bundle
from whatif.app.page import create_app

ROOT = Path(__file__).resolve().parents[1]
LEVER = "ivr_prompts"


class Session:
    """One session's page in a Bokeh document, and the patches its changes send."""

    def __init__(self, model: Path):
        self.doc = Document()
        self.events: list = []
        pn.state.curdoc = self.doc  # a session's document, as under the server
        self.app = create_app(model, ROOT)
        self.doc.add_root(pn.panel(self.app).get_root(self.doc))
        self.doc.on_change(self.events.append)
        self.size = len(Protocol().create("PULL-DOC-REPLY", "pull", self.doc).content_json)
        self.n_models = len(self.doc.models)

    def move(self, value: float) -> int:
        """Move the lever's slider (as the browser does); the bytes of the patch it sends back."""
        self.events.clear()
        pn.state.curdoc = self.doc
        self.app.sidebar.controls[LEVER].slider.value = value
        message = Protocol().create("PATCH-DOC", list(self.events))
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
    pn.extension()
    bundle = load_bundle(args.model)
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
    builds, sessions = [], []
    for _ in range(args.repeat):
        start = time.process_time()
        sessions.append(Session(args.model))
        builds.append(time.process_time() - start)
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
    print(
        f"| build a session's page (to the headline) | {1000 * statistics.median(builds):.0f} ms "
        f"| {1000 * min(builds):.0f} ms | {session.n_models} Bokeh models, "
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
