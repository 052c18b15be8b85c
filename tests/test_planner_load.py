"""Settings that serve many planner sessions at once: a lever acts on a move at once, and what
the server loads before serving is kept out of the garbage collector's sweeps."""

from __future__ import annotations

import gc
import inspect
import sys

import pytest
from panel.reactive import Syncable
from planner_processes import alive, children, planner_of_two_processes

from whatif.app.bundle import load_bundle
from whatif.app.server import keep_loaded_objects
from whatif.app.state import PlannerState
from whatif.app.views.levers import LeverControl


def test_a_lever_acts_on_a_browsers_move_at_once(tiny_model_path):
    state = PlannerState(load_bundle(tiny_model_path))
    control = next(iter(state.bundle.controls.values()))
    lever = LeverControl(state, control)
    assert lever.slider._debounce == 0
    # Panel still waits that attribute's milliseconds before acting on a browser's change
    assert "self._debounce" in inspect.getsource(Syncable._server_change)


def test_a_lever_move_reaches_the_browser_as_one_message(tiny_model_path, monkeypatch):
    """Every view's change from one lever move is held and sent together (one patch, not one
    per view: each message costs the server and the browser a round of work)."""
    import panel as pn
    from bokeh.document import Document

    state = PlannerState(load_bundle(tiny_model_path))
    control = next(iter(state.bundle.controls.values()))
    lever = LeverControl(state, control)
    doc = Document()
    doc.add_root(pn.panel(lever).get_root(doc))
    monkeypatch.setattr(pn.state, "curdoc", doc)
    held = []
    set_lever = state.set_lever
    monkeypatch.setattr(
        state, "set_lever", lambda *a: (held.append(doc.callbacks.hold_value), set_lever(*a))
    )
    before = state.forecast
    lever.slider.value = lever.slider.end
    assert held == ["combine"] and state.forecast is not before
    assert doc.callbacks.hold_value is None  # and released after the move


def test_a_browsers_lever_move_is_not_counted_busy_while_serving(tiny_model_path, monkeypatch):
    """Panel counts a browser's change as busy while its callbacks run (the planner shows no
    busy spinner); served, the count is skipped and ``pn.state.busy`` stays False."""
    import panel as pn

    from whatif.app.server import skip_busy_bookkeeping

    state = PlannerState(load_bundle(tiny_model_path))
    lever = LeverControl(state, next(iter(state.bundle.controls.values())))
    counted = []
    set_lever = state.set_lever
    monkeypatch.setattr(
        state, "set_lever", lambda *a: (counted.append(len(pn.state._busy_counter)), set_lever(*a))
    )
    slider = lever.slider
    slider._process_events({"value": slider.end})
    for name in ("_add_busy_event", "_remove_busy_event"):  # put back after the test
        monkeypatch.setattr(pn.state, name, getattr(pn.state, name))
    skip_busy_bookkeeping()
    slider._process_events({"value": slider.start})
    assert counted == [1, 0]
    assert not pn.state.busy and not pn.state._busy_counter


@pytest.fixture
def unfrozen():
    yield
    gc.unfreeze()


def test_what_is_loaded_before_serving_is_kept_out_of_the_sweeps(unfrozen):
    gc.unfreeze()
    loaded = [[]]  # a model's tables, say
    assert any(o is loaded for o in gc.get_objects())
    keep_loaded_objects()
    assert not any(o is loaded for o in gc.get_objects())  # no sweep walks it again


def _serve_one_page() -> dict:
    """A page of a planner-like app served by a server set up as ``whatif app`` does: its
    executor, the page's response and the session worker threads alive meanwhile."""
    import asyncio
    import socket
    import threading

    import panel as pn
    from tornado.httpclient import AsyncHTTPClient

    from whatif.app.server import do_session_work_in_order

    asyncio.set_event_loop(asyncio.new_event_loop())  # this thread's own
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = pn.serve(
        lambda: pn.pane.HTML("<b>planner</b>"),
        port=port,
        address="127.0.0.1",
        show=False,
        start=False,
        websocket_origin=[f"127.0.0.1:{port}"],
    )
    do_session_work_in_order(server)
    out = {"pool": server.io_loop.asyncio_loop._default_executor}
    out["responses"] = server._tornado._executor._executor
    server.start()
    try:
        out["response"] = server.io_loop.run_sync(
            lambda: AsyncHTTPClient().fetch(f"http://127.0.0.1:{port}/"), timeout=60
        )
        out["workers"] = [t for t in threading.enumerate() if t.name.startswith("whatif-session")]
    finally:
        server.stop()
    return out


def test_session_work_is_done_by_one_worker_in_order():
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as thread:  # a thread of its own: no other test's event loop
        served = thread.submit(_serve_one_page).result(timeout=120)
    assert served["pool"]._max_workers == 1 and served["responses"] is served["pool"]
    response = served["response"]
    assert response.code == 200 and b"bokeh" in response.body.lower()
    assert len(served["workers"]) == 1  # the page was built there


def test_the_planner_serves_from_one_process_per_core_unless_the_model_is_being_fitted(
    monkeypatch,
):
    import os

    from whatif.app.server import MAX_DEFAULT_PROCESSES, default_processes

    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    assert default_processes(fitting=False) == 2
    assert default_processes(fitting=True) == 1  # its page shows the fit's progress
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(64)), raising=False)
    assert default_processes(fitting=False) == MAX_DEFAULT_PROCESSES


def test_the_server_collects_garbage_less_often():
    from whatif.app.server import SERVER_GC_THRESHOLDS, collect_less_often

    before = gc.get_threshold()
    try:
        collect_less_often()
        assert gc.get_threshold() == SERVER_GC_THRESHOLDS
        assert all(a >= b for a, b in zip(SERVER_GC_THRESHOLDS, before, strict=True))
    finally:
        gc.set_threshold(*before)


def test_ctrl_c_stops_a_planner_of_two_processes_cleanly(tiny_model_path):
    import os
    import signal

    with planner_of_two_processes(tiny_model_path) as (proc, _):
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl+C in the terminal reaches every process
        out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, out
    assert out.count("planner stopped") == 1 and "interrupted" not in out
    assert "Traceback" not in out


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads Linux's /proc")
def test_sigterm_to_the_first_process_stops_every_process_of_the_planner(tiny_model_path):
    """A service manager's SIGTERM reaches the first process only: the forked ones, which serve,
    end with it instead of holding the port."""
    import signal
    import socket
    import time

    with planner_of_two_processes(tiny_model_path) as (proc, port):
        serving = children(proc.pid)
        assert len(serving) == 2
        proc.send_signal(signal.SIGTERM)  # to the first process alone
        proc.wait(30)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and any(alive(p) for p in serving):
            time.sleep(0.2)
        left = [p for p in serving if alive(p)]
        with socket.socket() as sock:
            free = sock.connect_ex(("127.0.0.1", port)) != 0
    assert not left and free


def test_an_html_pane_of_the_planner_sends_only_its_new_text_the_text_panel_would():
    """The planner's HTML panes (updated on every lever move) skip Panel's recomputing of
    every property of their model: the new text is Panel's own, and it is all that changes."""
    import panel as pn
    from bokeh.document import Document

    from whatif.app.theme import CSS
    from whatif.app.views.widgets import html_pane

    new = '<p class="wi">+0.12 <b>&amp;</b> 5 < 6 "quoted" – ünïcode</p>'
    ours = html_pane("<b>before</b>")
    panels = pn.pane.HTML(
        "<b>before</b>", stylesheets=[CSS], sizing_mode="stretch_width", margin=(0, 0)
    )
    results = []
    for pane in (ours, panels):
        doc = Document()
        model = pane.get_root(doc)
        doc.add_root(model)
        events = []
        doc.on_change(events.append)
        pane.object = new
        results.append((model, [e.attr for e in events]))
    (model, changed), (panels_model, _) = results
    assert model.text == panels_model.text and "ünïcode" in model.text
    assert changed == ["text"]
