"""The status page: progress while the model is fitted or loaded, or why it cannot be used."""

from __future__ import annotations

from functools import partial

import panel as pn
import panel_material_ui as pmui
from panel.viewable import Viewer

from whatif.app.views.widgets import Deferred, esc, html_pane

__all__ = ["StatusPanel"]


class StatusPanel(Viewer):
    """What the page shows while the model is fitted or loaded, or why it cannot be used."""

    def __init__(self, **params):
        super().__init__(**params)
        self._text = html_pane()
        self._progress = pmui.LinearProgress(
            variant="indeterminate", sizing_mode="stretch_width", margin=(10, 0)
        )
        self._error = Deferred(  # made when a model first fails (most sessions never)
            partial(
                pmui.Alert,
                severity="error",
                title="This model cannot be used",
                sizing_mode="stretch_width",
                margin=(10, 0),
            )
        )
        self._layout = pn.Column(
            self._text,
            self._progress,
            self._error.slot,
            sizing_mode="stretch_width",
            max_width=760,
            margin=(40, 20),
            styles={"margin-left": "auto", "margin-right": "auto"},
        )

    def __panel__(self):
        return self._layout

    def working(self, title: str, message: str, elapsed: float = 0.0, stage: str = "") -> None:
        """Show progress: what is happening, for how long so far, and the fit's last step."""
        minutes, seconds = divmod(int(elapsed), 60)
        stage = f'<div class="note"><b>Now:</b> {esc(stage)}</div>' if stage else ""
        clock = f"Elapsed {minutes}:{seconds:02d}. " if elapsed >= 1 else ""
        self._text.object = (
            f'<div class="status"><h2>{esc(title)}</h2><div class="note">{esc(message)}</div>{stage}'
            f'<div class="note">{clock}The planner opens by itself when it is ready; you can '
            "leave this page open.</div></div>"
        )
        self._progress.visible = True
        if self._error.built:
            self._error.update(visible=False)

    def failed(self, message: str) -> None:
        self._text.object = ""
        self._progress.visible = False
        self._error.update(
            object=message + "\n\nPick another model in the sidebar, or fit one with "
            "'whatif fit DATA --spec SPEC --out models/NAME'.",
            visible=True,
        )
