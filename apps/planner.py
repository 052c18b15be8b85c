"""The what-if planner under ``panel serve``: assembles the page and serves it, nothing else.

    panel serve apps/planner.py                              # the demo model (fitted if missing)
    WHATIF_MODEL=models/2025 panel serve apps/planner.py     # another model

``whatif app`` serves the same page (see :func:`whatif.app.server.serve`).
"""

import os
from pathlib import Path

import panel as pn

from whatif.app.page import create_app

# as `whatif app` serves it: Panel's widget callbacks are right, so Bokeh need not re-inspect each
os.environ.setdefault("BOKEH_PERFORM_ERROR_DIAGNOSTICS", "false")

ROOT = Path(__file__).resolve().parents[1]

pn.extension()
create_app(os.environ.get("WHATIF_MODEL") or None, root=ROOT).servable(title="whatif planner")
