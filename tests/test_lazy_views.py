"""Parts of the planner page made later than the page: the levers and the open tab a tick after
the headline, the driver levers when their section opens, messages when there is first something
to say. What the session did meanwhile reaches them when they are made."""

from __future__ import annotations

import weakref
from html import unescape
from types import SimpleNamespace

import panel as pn
import pytest
from bokeh.document import Document
from panel.io.state import set_curdoc

from whatif.analysis.library import ScenarioLibrary
from whatif.analysis.scenario import Lever
from whatif.app.bundle import load_bundle
from whatif.app.headline_first import HEADLINES_FIRST
from whatif.app.page import PlannerApp
from whatif.app.provider import get_provider
from whatif.app.state import PlannerState
from whatif.app.views.headline import headline_html
from whatif.app.views.scenario_bar import ScenarioBar
from whatif.app.views.status import StatusPanel


@pytest.fixture
def later(monkeypatch) -> list:
    """Work a server leaves for a later tick (``pn.state.execute(..., schedule=True)``, and the
    parts that wait for the headlines, ``HEADLINES_FIRST.later``), kept here until the test runs
    it with :func:`tick`."""
    queue = []
    monkeypatch.setattr(HEADLINES_FIRST, "later", queue.append)

    def execute(callback, schedule="auto"):
        if schedule is True:
            queue.append(callback)
        else:
            callback()

    monkeypatch.setattr(pn.state, "execute", execute)
    return queue


def tick(queue: list) -> None:
    while queue:
        queue.pop(0)()


@pytest.fixture
def app(tiny_model_path, later) -> PlannerApp:
    return PlannerApp(tiny_model_path)


def _count(app):
    return next(c for c in app.state.bundle.controls.values() if c.measure == "count")


def test_the_headline_comes_first_the_levers_and_the_open_tab_a_tick_later(app, later):
    assert 'id="headline-lift"' in app.headline._pane.object
    assert app.sidebar.controls == {} and not app._tab_slots[0].objects
    tick(later)
    influencers = [t for t, c in app.state.bundle.controls.items() if c.kind == "influencer"]
    assert list(app.sidebar.controls) == influencers
    assert app._tab_slots[0].objects  # the forecast tab


def test_a_lever_set_before_its_control_is_made_shows_on_it(app, later):
    count = _count(app)
    app.state.set_lever(count.target, "scale", 0.5)
    tick(later)
    view = app.sidebar.controls[count.target]
    assert view.operation == "scale" and view.slider.value == 0.5
    view.slider.value = 0.75  # and the control it got drives the state
    assert app.state.settings[count.target] == ("scale", 0.75)


def test_the_forecast_tab_made_after_a_move_shows_that_move(app, later):
    app.state.set_lever(_count(app).target, "scale", 0.5)
    tick(later)
    forecast = app.tab_view("Forecast")
    total = app.state.forecast.total
    assert forecast._hist.mean.location == pytest.approx(total.mean)
    assert (forecast._hist.band.left, forecast._hist.band.right) == (total.lo, total.hi)


def test_a_model_picked_before_the_tick_is_not_overwritten_by_the_old_levers(app, later):
    old = app.state.bundle
    app.state.bundle = None  # another model on its way: the old model's levers are not made
    app.sidebar._show_influencers(old)
    assert app.sidebar.controls == {}
    app.state.bundle = old
    tick(later)
    assert app.sidebar.controls


def test_driver_levers_made_when_their_section_opens_show_what_was_set_before(app, later):
    tick(later)
    driver = next(c for c in app.state.bundle.controls.values() if c.kind == "driver")
    app.state.set_lever(driver.target, "shift", 0.3)
    assert driver.target not in app.sidebar.controls
    app.sidebar._driver_card.collapsed = False
    assert app.sidebar.controls[driver.target].slider.value == pytest.approx(0.3)


def test_the_drop_button_of_extra_levers_is_made_with_the_first_extra_lever(app, later):
    tick(later)
    assert not app.sidebar._clear_extra.built
    extra = Lever(_count(app).target, "influencer", "floor", 1.0, None)
    app.state.extra_levers = [extra]
    button = app.sidebar._clear_extra.view
    assert button.visible and "Also in this scenario" in app.sidebar._extra.object
    button.clicks += 1
    assert app.state.extra_levers == [] and not button.visible


class _ServedContext:
    """What Panel reads of a server session's context (a session of a server, no browser)."""

    id = "test"
    server_context = None
    session = None
    request = SimpleNamespace(cookies={}, headers={}, arguments={}, protocol="http", host="")


@pytest.fixture
def served(tiny_model_path, later):
    """A planner session as a server makes it, before its browser pulled it: ``(app, doc)``;
    :func:`first_pull` plays the browser's ``document_ready``."""
    get_provider(tiny_model_path).start().wait()
    doc, context = Document(), _ServedContext()
    doc._session_context = weakref.ref(context)
    with set_curdoc(doc):
        app = PlannerApp(tiny_model_path)
        doc.add_root(pn.panel(app).get_root(doc))
    yield app, doc
    pn.state._onload.pop(doc, None)
    HEADLINES_FIRST.served(app)


def first_pull(doc, later) -> None:
    with set_curdoc(doc):
        for callback, _ in pn.state._onload.pop(doc, []):
            callback()
        tick(later)


def _model(pane, doc):
    return pane._models[doc.roots[0].ref["id"]][0]


def test_the_first_page_already_shows_a_fresh_sessions_headline(served, later):
    app, doc = served
    first = app._first_headline
    assert app.page.main[0].objects[0] is first and app.sidebar.controls == {}
    html = first.object
    assert 'id="headline-lift"' in html
    assert id(app) in HEADLINES_FIRST._waiting  # until its browser shows it (at most a second)
    assert "status" not in vars(app)  # no status page made for it
    assert html == headline_html(PlannerState(load_bundle(app.model_path)))
    shown = _model(first, doc)
    assert unescape(shown.text) == html
    first_pull(doc, later)
    assert id(app) not in HEADLINES_FIRST._waiting
    # the planner is built around the same pane, whose model (what the browser shows) stays
    assert app.headline.__panel__() is first and _model(first, doc) is shown
    assert app.page.main[0].objects[:2] == [app.scenario_bar.__panel__(), first]
    assert app.sidebar.controls and app._tab_slots[0].objects
    with set_curdoc(doc):
        app.state.set_lever(_count(app).target, "scale", 0.5)
    assert first.object != html and unescape(_model(first, doc).text) == first.object


def test_a_session_made_without_its_page_request_links_panels_files_here(served, later):
    """With several server processes the browser's connection may reach another process than
    its page request; the session made there must not link Panel's CDN (issue 18: every request
    stays on the host)."""
    from bokeh.models import ImportedStyleSheet

    app, doc = served  # made, like that one, with no page request
    first_pull(doc, later)
    urls = [m.url for m in doc.models if isinstance(m, ImportedStyleSheet)]
    assert urls and not [u for u in urls if u.startswith("http")]
    assert any(u.startswith("static/extensions/panel/") for u in urls)


def _busy_watchers() -> int:
    return len(pn.state.param.watchers.get("busy", {}).get("value", []))


def test_ended_sessions_are_freed_and_busy_changes_touch_no_page(tiny_model_path, later):
    """Material UI's page followed Panel's process-wide ``pn.state.busy`` through a watcher on
    ``pn.state`` that outlived its session: every busy change of any session ran it for every
    page ever served, and it kept each page, its state and views alive (issue 18, under load)."""
    import gc

    from panel.io.document import _cleanup_doc

    get_provider(tiny_model_path).start().wait()
    before = _busy_watchers()
    ended = []
    for _ in range(3):
        doc, context = Document(), _ServedContext()
        doc._session_context = weakref.ref(context)
        with set_curdoc(doc):
            app = PlannerApp(tiny_model_path)
            doc.add_root(pn.panel(app).get_root(doc))
        first_pull(doc, later)
        with set_curdoc(doc):
            app.state.set_lever(_count(app).target, "scale", 0.5)
        assert _busy_watchers() == before
        pn.state._busy_counter = [("a callback", 0.0)]  # as Panel does around each callback
        pn.state._busy_counter = []
        assert app.page.busy is False
        ended.append(weakref.ref(app.state))
        HEADLINES_FIRST.served(app)
        _cleanup_doc(doc)  # the session ends, as Panel ends it
        del app, doc, context
    gc.collect()
    # they do not accumulate (the last one may be held a while by a reference from C, outside
    # what the collector sees, until the next session replaces it)
    assert sum(r() is not None for r in ended) <= 1 and ended[0]() is None


def test_a_model_still_loading_gets_the_status_page_first(served, later, monkeypatch):
    class Loading:
        status, message, elapsed, stage = "loading", "Loading the model", 0.0, ""

        def start(self):
            return self

    monkeypatch.setattr("whatif.app.page.get_provider", lambda *args: Loading())
    doc, context = Document(), _ServedContext()
    doc._session_context = weakref.ref(context)
    with set_curdoc(doc):
        app = PlannerApp("models/not-yet")
    assert list(app.page.main) == [app.status.__panel__()] and app._first_headline is None
    HEADLINES_FIRST.served(app)


@pytest.fixture
def state(tiny_model_path, tmp_path):
    return PlannerState(load_bundle(tiny_model_path), library=ScenarioLibrary(tmp_path / "lib"))


def test_a_message_is_made_when_there_is_first_something_to_say(state):
    bar = ScenarioBar(state)
    assert not (bar._error.built or bar._info.built) and bar._error.slot.objects == []
    # the tiny fit is flagged: its warning is there from the start, so that message is made
    assert bar._warnings.built == bool(state.forecast.warnings)
    state.error = "plan.toml: not valid TOML; fix the syntax"
    alert = bar._error.view
    assert alert.visible and alert.object == state.error
    alert.closed = True  # closing it clears the problem
    assert state.error == "" and not alert.visible
    state.info = "Loaded 'Plan' from plan.toml"
    assert bar._info.view.visible


def test_an_error_set_before_the_bar_is_made_shows_at_once(state):
    state.error = "plan.toml: unknown lever 'x'"
    bar = ScenarioBar(state)
    assert bar._error.view.visible and bar._error.view.object == state.error


def test_the_status_page_makes_its_failure_message_only_on_failure():
    status = StatusPanel()
    status.working("Loading the model", "Preparing demo")
    assert not status._error.built
    status.failed("models/broken: not a model artefact")
    assert status._error.view.visible and "not a model artefact" in status._error.view.object
    status.working("Loading the model", "Preparing demo")
    assert not status._error.view.visible
