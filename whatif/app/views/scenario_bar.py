"""The scenario bar: name, save, download and upload the scenario, export its brief; messages."""

from __future__ import annotations

import asyncio
import io
import logging
import threading
from functools import partial

import panel as pn
import panel_material_ui as pmui
from panel.viewable import Viewer

from whatif.analysis.library import MAX_SCENARIO_BYTES
from whatif.app.state import PlannerState
from whatif.app.views.save_prompt import SavePrompt
from whatif.app.views.widgets import Deferred, Reported
from whatif.errors import WhatifError

__all__ = ["ScenarioBar"]

log = logging.getLogger("whatif.planner")

#: The brief's formats: A4 pages to print or send, or one self-contained web page.
BRIEF_FORMATS = ("pdf", "html")


class ScenarioBar(Viewer):
    """Name, save, download and upload the scenario; export the brief; messages."""

    def __init__(self, state: PlannerState, **params):
        super().__init__(**params)
        self.state = state
        self._name = pmui.TextInput(
            label="Scenario name",
            value=state.scenario_name,
            width=260,
            margin=(4, 8, 4, 0),
        )
        self._name.param.watch(self._on_name, "value")
        self._save = pmui.Button(
            label="Save scenario",
            icon="bookmark_add",
            variant="contained",
            margin=(4, 4),
            width=170,
        )
        self._save.on_click(self._on_save)
        self._download = pmui.FileDownload(
            callback=self._toml,
            filename="scenario.toml",
            label="Download .toml",
            icon="download",
            variant="outlined",
            margin=(4, 4),
            width=170,
        )
        self._upload = pmui.FileInput(
            accept=".toml",
            max_file_size=MAX_SCENARIO_BYTES,  # refused in the browser; the state checks again
            label="Upload .toml",
            icon="upload_file",
            uploaded_label="Upload .toml",
            variant="outlined",
            margin=(4, 4),
            width=170,
        )
        self._upload.param.watch(self._on_upload, "value")
        self._briefs = {
            kind: pmui.FileDownload(
                callback=partial(self._export_brief, kind),
                filename=f"brief.{kind}",
                label=f"Brief ({kind.upper()})",
                icon="picture_as_pdf" if kind == "pdf" else "description",
                variant="contained" if kind == "pdf" else "outlined",
                color="secondary",
                margin=(4, 4),
                width=140,
            )
            for kind in BRIEF_FORMATS
        }
        # the messages are made when there is first something to say (most sessions never)
        self._error = Deferred(self._make_error)
        self._info = Deferred(
            partial(
                pmui.Alert,
                severity="success",
                closeable=True,
                sizing_mode="stretch_width",
                margin=(6, 0),
            )
        )
        self._warnings = Deferred(
            partial(pmui.Alert, severity="warning", sizing_mode="stretch_width", margin=(6, 0))
        )
        state.param.watch(self._sync, ["scenario_name", "error", "info", "forecast", "notes"])
        self._layout = pn.Column(
            # a flex box wraps its buttons onto a second line on narrow screens (a Row would
            # widen the page past the window and cut the rest of the planner off)
            pn.FlexBox(
                self._name,
                self._save,
                self._download,
                self._upload,
                *self._briefs.values(),
                flex_wrap="wrap",
                align_items="center",
                sizing_mode="stretch_width",
                margin=0,
            ),
            SavePrompt(state),
            self._error.slot,
            self._info.slot,
            self._warnings.slot,
            sizing_mode="stretch_width",
            margin=0,
        )
        self._sync()

    def __panel__(self):
        return self._layout

    def _make_error(self, **params) -> pmui.Alert:
        alert = pmui.Alert(
            severity="error",
            title="Problem",
            closeable=True,
            sizing_mode="stretch_width",
            margin=(6, 0),
            **params,
        )
        alert.param.watch(self._on_close_error, "closed")
        return alert

    def _on_name(self, event) -> None:
        if event.new.strip() and event.new != self.state.scenario_name:
            self.state.scenario_name = event.new.strip()

    def _on_save(self, _) -> None:
        self.state.save_current(self._name.value)  # an empty name is refused with a message

    def _toml(self):
        filename, text = self.state.scenario_toml()
        self._download.filename = filename
        return io.StringIO(text)

    async def _export_brief(self, kind: str):
        # the brief takes seconds: render it in a worker thread so other sessions stay responsive
        scenario = self.state.current_scenario()
        button = self._briefs[kind]
        button.loading = True
        try:
            loop = asyncio.get_running_loop()
            filename, data = await loop.run_in_executor(
                None, _render_brief, self.state, scenario, kind
            )
        except WhatifError as err:
            self.state.error = "The brief could not be made: " + "; ".join(
                err.problems or [str(err)]
            )
            raise Reported() from None
        except Exception as err:  # the brief is another module: never show its traceback
            log.warning("brief failed: %s: %s", type(err).__name__, err)
            self.state.error = f"The brief could not be made ({type(err).__name__}: {err})"
            raise Reported() from None
        finally:
            button.loading = False
        button.filename = filename
        self.state.param.update(
            error="", info=f"Exported the brief of '{scenario.name}' as {kind.upper()} ({filename})"
        )
        return io.BytesIO(data) if isinstance(data, bytes) else io.StringIO(data)

    def _on_upload(self, event) -> None:
        if not event.new:
            return
        value, filename = event.new, self._upload.filename or "upload.toml"
        if isinstance(value, list):
            value, filename = value[0], filename[0] if isinstance(filename, list) else filename
        self.state.load_toml(value, filename)

    def _on_close_error(self, event) -> None:
        if event.new:
            self.state.error = ""

    def _sync(self, *events) -> None:
        state = self.state
        if self._name.value != state.scenario_name:
            self._name.value = state.scenario_name
        _show(self._error, state.error, closed=False)
        _show(self._info, state.info if not state.error else "", closed=False)
        warnings = list(state.notes) + list(state.forecast.warnings if state.forecast else ())
        _show(self._warnings, "\n".join(f"- {w[0].upper() + w[1:]}" for w in warnings))


def _show(message: Deferred, text: str, **params) -> None:
    """Show ``text`` in a message (made now if this is its first), or hide it when empty."""
    if text:
        message.update(object=text, visible=True, **params)
    elif message.built:
        message.update(visible=False)


_BRIEF_LOCK = threading.Lock()


def _render_brief(state: PlannerState, scenario, kind: str) -> tuple[str, str | bytes]:
    with _BRIEF_LOCK:  # one brief at a time per process: they are CPU-bound
        return state.brief_file(scenario, kind)
