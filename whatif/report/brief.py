"""The forecast brief: what a scenario would do, in one or two pages a director reads.

A brief holds, for one or more scenarios of a fitted model:

* a headline sentence: the forecast lift of the spec's headline metric (NPS, the top-box share or
  mean satisfaction) with its interval and the chance that it is positive, then the others;
* the levers as they were set, in operational units, and the average change each makes;
* the lift per channel, split into its direct part and the part that acts through the drivers,
  and the distribution of the company lift;
* the top drivers and the priority map of the channels the levers act in;
* with several scenarios, a side-by-side comparison;
* model health and provenance (fit date, data fingerprint, years, responses, diagnostics
  verdict, extrapolation warnings); a brief from a flagged fit says so in a banner at the top.

Every lift figure is :func:`whatif.analysis.engine.summarize_lift` of the same engine, scenario and
interval as ``whatif simulate``, so the brief and the command line never disagree. The content is
gathered by :mod:`whatif.report.brief_content`; this module draws and lays it out. The HTML is
self-contained (inline CSS, charts as SVG data URIs, no request to any host); the PDF is the same
HTML laid out by WeasyPrint on A4 pages with page numbers.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

from whatif.analysis.scenario import Scenario
from whatif.errors import WhatifError
from whatif.fitting.fitted import FittedModel
from whatif.report import charts
from whatif.report import format as fmt
from whatif.report.brief_content import build_brief, check_ci
from whatif.report.output import html_to_pdf, template_environment, write_atomically
from whatif.report.palette import COLORS, QUADRANT_COLORS
from whatif.report.ppc_chart import answer_check_chart

__all__ = ["FORMATS", "check_output_path", "render_html", "render_pdf", "write_brief"]

#: Output formats, chosen by the file extension.
FORMATS = ("html", "pdf")
TEMPLATES = Path(__file__).parent / "templates"


# -- checks ---------------------------------------------------------------------------------


def check_output_path(out: str | Path) -> str:
    """Check that a brief can be written to ``out``; return its format (``html`` or ``pdf``).

    Nothing is created: a missing parent folder is only checked to be creatable (its nearest
    existing ancestor is a writable folder); :func:`write_brief` creates it.

    Raises
    ------
    WhatifError
        For an extension other than ``.html``/``.htm``/``.pdf``, a folder, or a parent folder
        that cannot be created or written to.
    """
    out = Path(out)
    suffix = out.suffix.lower().lstrip(".")
    fmt = {"html": "html", "htm": "html", "pdf": "pdf"}.get(suffix)
    if fmt is None:
        got = f"'.{suffix}'" if suffix else "no extension"
        raise WhatifError(
            f"{out}: a brief is written as .html or .pdf (chosen by the extension), got {got}"
        )
    if out.is_dir():
        raise WhatifError(f"{out}: is a folder; give a file name such as {out / ('brief.' + fmt)}")
    parent = out.absolute().parent
    existing = parent
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise WhatifError(
            f"{out}: cannot create the folder {out.parent} ({existing} is a file); "
            "choose another --out"
        )
    if not os.access(existing, os.W_OK | os.X_OK):
        raise WhatifError(f"{out}: the folder {existing} is not writable; choose another --out")
    return fmt


# -- formatting (the template's filters): whatif.report.format ------------------------------------


def _signed(value: float, digits: int = 3) -> str:
    return fmt.signed(value, digits)


def _pp(share: float, digits: int = 1) -> str:
    return fmt.signed(100 * share, digits)


def _nps(change: float, digits: int = 1) -> str:
    return fmt.signed(change, digits)


def _number(value: float, digits: int = 2) -> str:
    return f"{value:,.{digits}f}".replace("-", fmt.MINUS)


def _charts(brief: dict) -> dict:
    ci_label, scale = brief["ci_label"], brief["scale"]
    out: dict = {"scenarios": []}
    for s in brief["scenarios"]:
        rows = [r for r in s["channels"] if r["acted"]] or s["channels"]
        hist = s["histogram"]
        out["scenarios"].append(
            {
                "channels": charts.channel_lift_chart(
                    [
                        {
                            "label": r["label"],
                            **{k: r[k] for k in ("direct", "indirect", "mean", "lo", "hi")},
                        }
                        for r in rows
                    ],
                    ci_label,
                    scale["label"],
                ),
                "distribution": charts.distribution_chart(
                    hist["edges"],
                    hist["counts"],
                    s["total"]["mean"],
                    s["total"]["lo"],
                    s["total"]["hi"],
                    ci_label,
                    "Company lift in mean satisfaction (points)",
                ),
            }
        )
    if brief["comparison"]:
        out["comparison"] = charts.comparison_chart(
            [
                {
                    "label": s["name"],
                    "mean": s["total"]["mean"],
                    "lo": s["total"]["lo"],
                    "hi": s["total"]["hi"],
                    "top_mean": s["top_box"]["mean"],
                    "top_lo": s["top_box"]["lo"],
                    "top_hi": s["top_box"]["hi"],
                }
                for s in brief["scenarios"]
            ],
            scale["label"],
            scale["top_box_short"],
        )
    panels = [
        {
            "title": c["label"],
            "perf_line": c["perf_line"],
            "weight_line": c["weight_line"],
            "points": c["drivers"],
        }
        for c in brief["drivers"]["channels"]
    ]
    out["priority"] = charts.priority_chart(panels, ci_label)
    answers = brief["answer_check"]
    if answers:
        out["answer_check"] = answer_check_chart(
            answers["check"], answers["labels"].get, brief["single_period"]
        )
    return out


@functools.cache
def _environment():
    env = template_environment()
    env.filters.update(signed=_signed, pp=_pp, nps=_nps, prob=fmt.probability, number=_number)
    env.globals.update(
        digits=fmt.decimals, interval=fmt.interval, palette={**COLORS, **QUADRANT_COLORS}
    )
    return env


def render_html(model: FittedModel, scenarios: list[Scenario], ci: float = 0.9, plan=None) -> str:
    """The brief as one self-contained HTML page (inline CSS, charts as SVG data URIs).

    Parameters
    ----------
    model, scenarios, ci
        As :func:`build_brief`.
    plan
        An :class:`~whatif.analysis.optimizer.OptimizationResult`: a plan section with the
        efficient frontier (:mod:`whatif.report.plan_brief`).
    """
    from whatif.report.plan_brief import plan_section

    brief = build_brief(model, scenarios, ci)
    extra = plan_section(plan, model.spec) if plan is not None else ""
    return (
        _environment()
        .get_template("brief.html.j2")
        .render(brief=brief, charts=_charts(brief), plan_html=extra)
    )


def render_pdf(model: FittedModel, scenarios: list[Scenario], ci: float = 0.9) -> bytes:
    """The brief as PDF bytes: the HTML of :func:`render_html` on A4 pages, numbered.

    Parameters
    ----------
    model, scenarios, ci
        As :func:`build_brief`.
    """
    return html_to_pdf(render_html(model, scenarios, ci))


def write_brief(
    model: FittedModel, scenarios: list[Scenario], out: str | Path, ci: float = 0.9, plan=None
) -> Path:
    """Write a brief to ``out`` (``.html`` or ``.pdf``, from the extension), atomically.

    The file is written to a temporary sibling and moved into place, so a failed or interrupted
    write leaves any earlier brief at ``out`` untouched.

    Parameters
    ----------
    model, scenarios, ci, plan
        As :func:`render_html`.
    out
        Target file.

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    WhatifError
        Unknown extension, unwritable path, bad ``ci`` or a scenario the model cannot simulate.
    """
    out = Path(out)
    fmt = check_output_path(out)
    check_ci(ci)
    html = render_html(model, scenarios, ci, plan)
    data = html_to_pdf(html) if fmt == "pdf" else html.encode("utf-8")
    return write_atomically(out, data, "the brief")
