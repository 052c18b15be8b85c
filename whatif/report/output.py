"""Writing a report file: the templates' Jinja environment, HTML to PDF with WeasyPrint, and an
atomic write that never leaves half a file (the forecast brief and the monitor report)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import jinja2

from whatif.errors import WhatifError

__all__ = ["TEMPLATES", "html_to_pdf", "template_environment", "write_atomically"]

#: The report templates (HTML and CSS).
TEMPLATES = Path(__file__).parent / "templates"


def template_environment() -> jinja2.Environment:
    """The reports' Jinja environment: the templates folder, autoescape on, undefined names an
    error; each report adds its own filters and globals."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def html_to_pdf(html: str) -> bytes:
    """A self-contained HTML page as PDF bytes; WeasyPrint may fetch nothing but ``data:`` URIs."""
    from weasyprint import HTML  # a slow import only the PDF path needs
    from weasyprint.urls import URLFetcher

    fetcher = URLFetcher(allowed_protocols=("data",))  # nothing outside the page, ever
    return HTML(string=html, url_fetcher=fetcher).write_pdf()


def write_atomically(out: str | Path, data: bytes, what: str = "the file") -> Path:
    """Write ``data`` to ``out`` through a temporary sibling moved into place, so that a failed or
    interrupted write leaves any earlier file at ``out`` untouched.

    Raises
    ------
    WhatifError
        ``out`` cannot be written, in one line naming it and ``what`` it is.
    """
    out = Path(out)
    tmp = None
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            dir=out.parent, prefix=f".{out.name}.", suffix=".tmp", delete=False
        ) as handle:
            tmp = Path(handle.name)
            handle.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
        tmp = None
    except OSError as err:
        raise WhatifError(
            f"{out}: cannot write {what} ({err.strerror or err}); choose a writable --out"
        ) from None
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
    return out
