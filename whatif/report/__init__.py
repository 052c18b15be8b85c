"""Showing results: number formatting, the palette, text and JSON tables, charts and the forecast
brief (HTML and PDF). Computes nothing of its own: it draws what :mod:`whatif.analysis` returns.
"""

from whatif.exports import lazy_exports

EXPORTS = {
    "dumps_json": "whatif.report.tables",
    "format_table": "whatif.report.tables",
    "jsonable": "whatif.report.tables",
    "FONTS": "whatif.report.charts",
    "PALETTE": "whatif.report.charts",
    "channel_lift_chart": "whatif.report.charts",
    "comparison_chart": "whatif.report.charts",
    "distribution_chart": "whatif.report.charts",
    "figure_to_data_uri": "whatif.report.charts",
    "priority_chart": "whatif.report.charts",
    "priority_figure": "whatif.report.charts",
    "LabelBox": "whatif.report.labels",
    "place_labels": "whatif.report.labels",
    "text_size": "whatif.report.labels",
    "FORMATS": "whatif.report.brief",
    "check_output_path": "whatif.report.brief",
    "render_html": "whatif.report.brief",
    "render_pdf": "whatif.report.brief",
    "write_brief": "whatif.report.brief",
    "MINUS": "whatif.report.format",
    "NOT_AFFECTED": "whatif.report.format",
    "decimals": "whatif.report.format",
    "interval": "whatif.report.format",
    "percent": "whatif.report.format",
    "points": "whatif.report.format",
    "probability": "whatif.report.format",
    "share_points": "whatif.report.format",
    "signed": "whatif.report.format",
    "COLORS": "whatif.report.palette",
    "QUADRANT_COLORS": "whatif.report.palette",
    "SERIES": "whatif.report.palette",
    "carried_past": "whatif.report.terminal",
    "compare_report": "whatif.report.terminal",
    "lift_report": "whatif.report.terminal",
    "summary_report": "whatif.report.terminal",
    "reliability_table": "whatif.report.terminal",
    "survey_report": "whatif.report.terminal",
    "build_brief": "whatif.report.brief_content",
    "check_ci": "whatif.report.brief_content",
    "headline": "whatif.report.brief_content",
}

__all__ = sorted(EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, EXPORTS)
