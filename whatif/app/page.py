"""The planner page of one session: the sidebar and the tabs on one state, behind a status page.

:class:`PlannerApp` assembles the views (:mod:`whatif.app.views`) over a fresh
:class:`~whatif.app.state.PlannerState`. Under a server its first page is light: the headline of a
fresh session (the same for everyone, made once per model) when the model is loaded, and the
planner is built around it once the browser shows that page; else a status page until the model's
:class:`~whatif.app.provider.ModelProvider` is ready (polled with a periodic callback; outside a
server it waits). :func:`create_app` builds the page of one session (the
demo model by default); :func:`whatif.app.server.serve` (``whatif app``) and ``apps/planner.py``
serve it.
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path

import panel as pn
import panel_material_ui as pmui
import param
from bokeh.settings import settings as bokeh_settings
from panel.io.resources import LOCAL_DIST
from panel.util import edit_readonly
from panel.viewable import Viewer

from whatif.app.demo import DEMO_FIT, demo_paths
from whatif.app.headline_first import HEADLINES_FIRST
from whatif.app.monitor_state import MonitorState
from whatif.app.panel_lookups import memoize_panel_lookups
from whatif.app.plan_state import PlanState
from whatif.app.provider import get_provider
from whatif.app.state import PlannerState
from whatif.app.theme import THEME
from whatif.app.views.compare import ComparePanel
from whatif.app.views.forecast import ForecastPanel
from whatif.app.views.headline import Headline, fresh_headline_html, headline_pane
from whatif.app.views.model import ModelPanel
from whatif.app.views.monitor import MonitorPanel
from whatif.app.views.plan import PlanPanel
from whatif.app.views.priorities import PriorityPanel
from whatif.app.views.scenario_bar import ScenarioBar
from whatif.app.views.sidebar import Sidebar
from whatif.app.views.status import StatusPanel
from whatif.app.views.weights import WeightsPanel
from whatif.app.views.widgets import Reported, html_pane
from whatif.errors import WhatifError

__all__ = ["TABS", "PlannerApp", "create_app"]

log = logging.getLogger("whatif.planner")

#: The planner's tabs: title and view (built when the tab is first opened).
TABS = (
    ("Forecast", ForecastPanel),
    ("Compare scenarios", ComparePanel),
    ("Driver weights", WeightsPanel),
    ("Priority map", PriorityPanel),
    ("Model & data", ModelPanel),
    ("Plan", lambda state: PlanPanel(PlanState(state))),
    ("Monitor", MonitorPanel),  # built with the demo's KPI feed folder (PlannerApp._tab)
)
#: Width of the sidebar in pixels (the levers).
SIDEBAR_WIDTH = 360
#: The main area's column (the planner, or the first page's headline).
PLANNER_LAYOUT = {"sizing_mode": "stretch_width", "margin": (0, 12, 0, 4)}
#: How often a session waiting for its model looks again, in milliseconds.
POLL_MS = 400
#: How long a page that carries its headline counts as waiting for its browser, in milliseconds
#: (see whatif.app.headline_first).
FIRST_PAGE_WAIT_MS = 1000


def _link_panels_files_here(doc) -> None:
    """Make a session's components link Panel's own files from this server, as its page does.

    With several server processes, a browser's page request and its connection may reach
    different processes; the second makes the session again from its token, without the page
    request that tells Panel where its files are served (Panel 1.10 says it only while rendering
    the page, as ``dist_url``), and its components' stylesheets then linked Panel's CDN.
    """
    if bokeh_settings.resources(default="server").startswith("server"):
        rel_path = pn.state.rel_path
        doc._template_variables.setdefault(
            "dist_url", f"{rel_path}/{LOCAL_DIST}" if rel_path else LOCAL_DIST
        )


def _detach_from_panels_busy(page: pmui.Page) -> None:
    """Show ``page`` as not busy and drop its link to Panel's process-wide ``pn.state.busy``.

    Material UI's page follows ``pn.state.busy`` through a reference: every callback of any
    session then patched every open page (n sessions: n^2 messages). Setting the value drops the
    reference but not Param's watcher on ``pn.state``, which went on running for every page on
    every busy change of any session (a tenth of a lever move with 20 pages open), and kept each
    page, its session's state and views alive after the session ended.
    """
    with edit_readonly(page):
        page.busy = False
    private = getattr(page, "_param__private", None)
    watchers = getattr(private, "ref_watchers", None)
    if not watchers:  # a Param that keeps its references otherwise: nothing to drop here
        return
    for names, watcher in watchers:
        if "busy" in names:
            pn.state.param.unwatch(watcher)
    private.ref_watchers = [(n, w) for n, w in watchers if "busy" not in n]


def _under_server() -> bool:
    """Whether this runs in a server session (a browser will load the page)."""
    doc = pn.state.curdoc
    return doc is not None and doc.session_context is not None


class PlannerApp(Viewer):
    """The planner page of one session: a status page until the model is ready, then the planner.

    Parameters
    ----------
    model_path
        Artefact folder to open.
    fit_from
        ``(survey, spec)`` to fit the model from if it is missing (the demo), else ``None``.
    scenario_dir
        A folder of scenario TOML files to offer as saved scenarios (the demo's examples).
    """

    model_path = param.String(doc="Artefact folder to open.")
    scenario_dir = param.String(default=None, allow_None=True, doc="Example scenarios folder.")

    def __init__(
        self,
        model_path: str | Path,
        fit_from=None,
        fit_options=None,
        scenario_dir: str | Path | None = None,
        **params,
    ):
        super().__init__(
            model_path=str(model_path),
            scenario_dir=str(scenario_dir) if scenario_dir else None,
            **params,
        )
        self.state = PlannerState(user=pn.state.user or "")  # who saves, when sign-in is on
        self._fit_from, self._fit_options = fit_from, fit_options or DEMO_FIT
        self._poll = None
        self.sidebar = Sidebar(self.state, self)
        self._planner: pn.Column | None = None  # the main area once the model is ready
        self._built = False  # whether the planner in it is built (once per session)
        self._tab_slots: list[pn.Column] = []
        self._views: dict = {}  # tab title -> its view, once built
        self._first_headline = None  # the headline pane of the light first page, if it had one
        if _under_server():
            _link_panels_files_here(pn.state.curdoc)
            main = [self._first_view(fit_from)]
        else:
            main = [self.status]
        self.page = pmui.Page(
            title="whatif · CX what-if planner",
            sidebar=[self.sidebar],
            main=main,
            sidebar_width=SIDEBAR_WIDTH,
            theme_config=THEME,
            theme_toggle=False,
            busy_indicator=None,
        )
        # this page shows its own progress (the status page), not every session's
        _detach_from_panels_busy(self.page)
        if _under_server():
            pn.config.exception_handler = self._on_exception
            # Everything else waits until the browser shows this light page: a change made
            # between the session's creation and the browser's first pull of it can be lost
            # (the blank first page), and the page shows at once instead of after the build.
            pn.state.onload(lambda: self._on_first_pull(fit_from))
            # others' levers and charts wait until this page shows its headline
            shown = None if self._first_headline is None else FIRST_PAGE_WAIT_MS
            HEADLINES_FIRST.expect(self, within_ms=shown)
            pn.state.curdoc.on_session_destroyed(lambda _context: HEADLINES_FIRST.served(self))
        else:
            self.open(self.model_path, fit_from)

    def __panel__(self):
        return self.page

    @functools.cached_property
    def status(self) -> StatusPanel:
        """The status page: progress while the model is fitted or loaded, or why it cannot be
        used (made when first needed: most sessions' first page has the headline instead)."""
        status = StatusPanel()
        status.working("Opening the planner", f"Preparing {Path(self.model_path).name}")
        return status

    # -- loading --------------------------------------------------------------------------------

    def _first_view(self, fit_from) -> pn.viewable.Viewable:
        """The main area of the light first page: with the model already loaded, the headline of
        a fresh session (the same for everyone: made once per model) above a note that the rest
        is on its way; else the status page."""
        provider = get_provider(self.model_path, fit_from, self._fit_options).start()
        if provider.status != "ready":
            return self.status
        self._first_headline = headline_pane(fresh_headline_html(provider.bundle))
        self._planner = pn.Column(
            self._first_headline,
            html_pane('<div class="note">Loading the levers and charts…</div>'),
            **PLANNER_LAYOUT,
        )
        return self._planner

    def _on_first_pull(self, fit_from) -> None:
        """The browser shows the first page: open the model, at once -- or, when that page had
        the headline already, once no other session waits for its headline
        (whatif.app.headline_first)."""
        if self._first_headline is None:
            self.open(self.model_path, fit_from)
            return
        HEADLINES_FIRST.served(self)
        HEADLINES_FIRST.later(lambda: self.open(self.model_path, fit_from))

    def open(self, path: str | Path, fit_from=None) -> None:
        """Open a model: at once when loaded before, else with a status page meanwhile."""
        self.model_path = str(path)
        self.sidebar.set_models(Path(path))
        provider = get_provider(path, fit_from, self._fit_options).start()
        if provider.status == "ready":
            self._ready(provider)
            return
        self._show_status(provider)
        if not _under_server():  # a notebook, tests: just wait
            provider.wait()
            self._check()
        elif self._poll is None:
            self._poll = pn.state.add_periodic_callback(self._check, period=POLL_MS)

    def switch_model(self, path: str) -> None:
        self.open(path, None)

    def _check(self) -> None:
        provider = get_provider(self.model_path)
        if not provider.done:
            self._show_status(provider)
            return
        if self._poll is not None:
            self._poll.stop()
            self._poll = None
        if provider.status == "ready":
            self._ready(provider)
        else:
            self._show_status(provider)

    def _show_status(self, provider) -> None:
        if provider.status == "error":
            self.state.bundle = None
            self.status.failed(provider.error)
            self.sidebar.show_model(False, "This model cannot be used; pick another one.")
        else:
            title = "Fitting the model" if provider.status == "fitting" else "Loading the model"
            self.status.working(
                title,
                provider.message or f"Preparing {Path(self.model_path).name}",
                provider.elapsed,
                provider.stage,
            )
            self.sidebar.show_model(False, provider.message or "Loading...")
        self._show(self.status)
        HEADLINES_FIRST.served(self)  # a status page instead: nobody waits for it

    def _ready(self, provider) -> None:
        self.state.use_bundle(provider.bundle)
        if self.scenario_dir and Path(self.scenario_dir).is_dir():
            self.state.load_directory(self.scenario_dir)
        self.sidebar.show_model(True)
        self._show(self._planner if self._built else self._build_planner())
        HEADLINES_FIRST.served(self)

    def _show(self, view) -> None:
        """Make ``view`` the main area (only when it is not already: each change is sent)."""
        shown = view.__panel__() if isinstance(view, Viewer) else view  # as the page holds it
        if list(self.page.main) != [shown]:
            self.page.main = [view]

    # -- the planner, built once per session and each tab on first open ------------------------

    def _build_planner(self) -> pn.Column:
        self.scenario_bar = ScenarioBar(self.state)
        self.headline = Headline(self.state, pane=self._first_headline)
        self._tab_slots = [pn.Column(sizing_mode="stretch_width", margin=0) for _ in TABS]
        self.tabs = pmui.Tabs(
            *[(title, slot) for (title, _), slot in zip(TABS, self._tab_slots, strict=True)],
            sizing_mode="stretch_width",
            margin=(8, 0),
            dynamic=True,
        )
        # the open tab's view (charts: the heaviest part of the page) is built once the headline
        # has gone out, and other sessions' headlines (whatif.app.headline_first); at once
        # outside a server
        HEADLINES_FIRST.later(lambda: self._open_tab(self.tabs.active))
        self.tabs.param.watch(lambda event: self._open_tab(event.new), "active")
        parts = [self.scenario_bar, self.headline, self.tabs]
        if self._planner is None:
            self._planner = pn.Column(*parts, **PLANNER_LAYOUT)
        else:  # the first page's column: its headline pane, still in it, keeps its model
            self._planner.objects = parts
        self._built = True
        return self._planner

    def _open_tab(self, index: int) -> None:
        """Build a tab's view the first time it is opened (most sessions never open most tabs)."""
        slot = self._tab_slots[index]
        if not slot.objects:
            title, view = TABS[index]
            if title == "Monitor":
                # the demo's KPI feed and alerts sit beside its example scenarios
                feeds = Path(self.scenario_dir).parent if self.scenario_dir else None
                self._views[title] = MonitorPanel(MonitorState(self.state, demo_dir=feeds))
            else:
                self._views[title] = view(self.state)
            slot.objects = [self._views[title]]

    def tab_view(self, title: str):
        """The view of the tab called ``title`` (built now if it was never opened)."""
        self._open_tab([name for name, _ in TABS].index(title))
        return self._views[title]

    def _on_exception(self, exc: BaseException) -> None:
        if isinstance(exc, Reported):
            return
        if isinstance(exc, WhatifError):
            self.state.error = "\n".join(exc.problems) or str(exc)
            return
        log.error("planner: %s: %s", type(exc).__name__, exc, exc_info=exc)
        self.state.error = f"Something went wrong: {type(exc).__name__}: {exc}"


def create_app(model_path: str | Path | None = None, root: str | Path = ".") -> PlannerApp:
    """The planner of one session on ``model_path`` (default: the demo model, fitted if missing).

    Parameters
    ----------
    model_path
        Artefact folder; ``None`` means ``ROOT/models/demo``.
    root
        The folder holding ``models/`` and ``data/demo/`` (the project folder).
    """
    pn.extension()
    memoize_panel_lookups()
    root = Path(root)
    demo_model, survey, spec = demo_paths(root)
    path = Path(model_path) if model_path else demo_model
    is_demo = path.resolve() == demo_model.resolve()
    fit_from = (survey, spec) if is_demo else None
    scenarios = root / "data" / "demo" / "scenarios" if is_demo else None
    return PlannerApp(path, fit_from=fit_from, scenario_dir=scenarios)
