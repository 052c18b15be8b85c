"""The look of the planner page: its colors, the Material UI theme and the CSS of its HTML panes.

Its colors are the house palette (:mod:`whatif.report.palette`), shared with the charts and the brief.
"""

from __future__ import annotations

from whatif.report.palette import COLORS

__all__ = ["COLORS", "CSS", "THEME"]


#: The Material UI theme of the page.
THEME = {
    "palette": {
        "primary": {"main": COLORS["primary"]},
        "secondary": {"main": COLORS["positive"]},
        "background": {"default": "#f5f7fb"},
    },
    "shape": {"borderRadius": 8},
}
#: The stylesheet of the planner's HTML panes (cards, tables, captions, badges).
CSS = (
    """
:host { --wi-primary: PRIMARY; --wi-pos: POSITIVE; --wi-neg: NEGATIVE;
        --wi-muted: #5f6b7a; --wi-line: #e3e8ef; font-family: Roboto, "Helvetica Neue", Arial, sans-serif;
        color: #1d2733; width: 100%; }
.hero { display: flex; gap: 16px; flex-wrap: wrap; align-items: stretch; }
.kpi { background: #fff; border: 1px solid var(--wi-line); border-radius: 10px; padding: 14px 18px;
       min-width: 200px; flex: 1 1 200px; }
.kpi.main { flex: 2 1 320px; border-left: 5px solid var(--wi-primary); }
.kpi-label { font-size: 12px; letter-spacing: .04em; text-transform: uppercase; color: var(--wi-muted); }
.kpi-value { font-size: 40px; font-weight: 700; line-height: 1.15; margin: 4px 0 2px; }
.kpi-value .unit { font-size: 16px; font-weight: 400; color: var(--wi-muted); margin-left: 4px; }
.kpi-value.small { font-size: 28px; }
.kpi-sub { font-size: 13px; color: var(--wi-muted); }
.pos { color: var(--wi-pos); } .neg { color: var(--wi-neg); } .zero { color: #9aa4b2; }
.prob { display: inline-block; padding: 1px 8px; border-radius: 10px; background: #eef3fb;
        color: var(--wi-primary); font-weight: 600; font-size: 12px; margin-left: 6px; }
.levers { font-size: 13px; margin: 6px 0 0; padding-left: 18px; color: #334155; }
.levers li { margin: 2px 0; }
.channels { display: grid; grid-template-columns: repeat(auto-fit, minmax(170px, 1fr)); gap: 10px;
            margin-top: 14px; }
.ch { background: #fff; border: 1px solid var(--wi-line); border-radius: 10px; padding: 10px 12px; }
.ch-name { font-size: 12.5px; color: var(--wi-muted); min-height: 32px; }
.ch-value { font-size: 22px; font-weight: 700; }
.ch-sub { font-size: 12px; color: var(--wi-muted); }
table.wi { border-collapse: collapse; width: 100%; font-size: 13.5px; background: #fff; }
table.wi th { text-align: right; font-weight: 600; color: var(--wi-muted); font-size: 12px;
              text-transform: uppercase; letter-spacing: .03em; padding: 8px 10px;
              border-bottom: 2px solid var(--wi-line); }
table.wi th:first-child, table.wi td:first-child { text-align: left; }
table.wi td { text-align: right; padding: 7px 10px; border-bottom: 1px solid var(--wi-line);
              font-variant-numeric: tabular-nums; }
table.wi tr.total td { font-weight: 700; background: #f7f9fc; }
table.wi td.ok { color: var(--wi-pos); font-weight: 600; } table.wi td.bad { color: var(--wi-neg); font-weight: 600; }
.note { font-size: 13px; color: var(--wi-muted); margin: 4px 0 8px; line-height: 1.45; }
.section { font-size: 15px; font-weight: 600; margin: 4px 0 6px; color: #1d2733; }
.badge { display: inline-flex; align-items: center; gap: 6px; padding: 3px 10px; border-radius: 12px;
         font-size: 12.5px; font-weight: 600; }
.badge.ok { background: #e3f4ec; color: var(--wi-pos); } .badge.bad { background: #fdecea; color: var(--wi-neg); }
.model-meta { font-size: 12.5px; color: var(--wi-muted); line-height: 1.5; margin: 2px 0 6px; }
.caption { font-size: 12px; color: var(--wi-muted); line-height: 1.35; margin-top: -4px; }
.caption b { color: #8a4b00; font-weight: 600; }
.dl { display: grid; grid-template-columns: max-content 1fr; gap: 4px 14px; font-size: 13px; }
.dl dt { color: var(--wi-muted); } .dl dd { margin: 0; }
.status { max-width: 640px; margin: 40px auto; text-align: center; }
.status h2 { font-size: 22px; font-weight: 600; margin: 0 0 8px; }
""".replace("PRIMARY", COLORS["primary"])
    .replace("POSITIVE", COLORS["positive"])
    .replace("NEGATIVE", COLORS["negative"])
)
