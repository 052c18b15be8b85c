"""Panel's resource look-ups, answered once per server process instead of on every page.

Panel 1.10 works out anew, for every page it serves and every component model it makes, where
each custom component class keeps its JavaScript bundle (``ReactiveESM._bundle_path``: a few
``stat`` calls through the class's modules) and whether a resource path lies inside a Bokeh
extension's folder (``panel.io.resources._is_subpath``: two absolute paths and a ``relative_to``).
A page request asks both for the ~200 component classes Panel and Material UI define, which made
about two thirds of its 300 ms; a session's first document asks again for each component.

The answers depend only on the installed files (and the working folder, part of the key), so
:func:`memoize_panel_lookups` keeps them. It also keeps the list of scripts and stylesheets a page
links to (``bundle_resources``, 60-90 ms of each page request even then), keyed by everything it
is made from: the resources' settings, the kinds of models on the page, Panel's configuration
and the modules loaded so far. Under ``--dev`` (Panel's autoreload, when files change while
serving) nothing is kept.
"""

from __future__ import annotations

import copy
import functools
import os
import sys

from bokeh.settings import settings as bokeh_settings
from panel.config import config, panel_extension
from panel.custom import ReactiveESM
from panel.io import resources as panel_resources
from panel.io import server as panel_server
from panel.io.state import state
from panel_material_ui.base import MaterialComponent

__all__ = ["memoize_panel_lookups"]


class _MemoizedClassProperty:
    """A class property computed once per class and ``context()`` (while Panel's autoreload is
    off)."""

    def __init__(self, compute, context=tuple):
        self.compute, self.context = compute, context
        self.values: dict[tuple, object] = {}

    def __get__(self, obj, owner):
        if config.autoreload:
            return self.compute(owner)
        key = (owner, *self.context())
        try:
            return self.values[key]
        except KeyError:
            value = self.values[key] = self.compute(owner)
            return value


def _resource_mode() -> tuple:
    """What Material UI's stylesheet choice depends on besides the class."""
    return panel_resources.RESOURCE_MODE, bokeh_settings.resources(default="server")


def _memoize(cls: type, name: str, context=tuple) -> None:
    prop = cls.__dict__[name]
    if not isinstance(prop, _MemoizedClassProperty):
        setattr(cls, name, _MemoizedClassProperty(prop.f, context))


def memoize_panel_lookups() -> None:
    """Keep Panel's bundle-path, extension-folder and page-bundle answers for this process
    (idempotent)."""
    if isinstance(ReactiveESM.__dict__["_bundle_path"], _MemoizedClassProperty):
        return
    _memoize(ReactiveESM, "_bundle_path")
    # Material UI's stylesheets: a CDN link or the file beside its bundle, by resource mode
    _memoize(MaterialComponent, "_bundle_css", _resource_mode)
    is_subpath = panel_resources._is_subpath

    @functools.lru_cache(maxsize=4096)
    def _known(path: str, parent: str, cwd: str) -> bool:
        return is_subpath(path, parent)

    def _is_subpath(path, parent) -> bool:
        if config.autoreload:
            return is_subpath(path, parent)
        return _known(os.fspath(path), os.fspath(parent), os.getcwd())

    panel_resources._is_subpath = _is_subpath
    panel_server.bundle_resources = _memoized_bundles(panel_server.bundle_resources)


def _memoized_bundles(bundle_resources):
    """``bundle_resources`` (what a served page links to), made once per :func:`_bundle_key`."""
    bundles: dict[tuple, object] = {}

    def memoized(roots, resources, notebook=False, reloading=False, enable_mathjax="auto"):
        if config.autoreload or notebook or reloading or roots is None:
            return bundle_resources(roots, resources, notebook, reloading, enable_mathjax)
        # as Panel's own does: the page's resource mode is where components' files are linked
        # from (a brief exported with CDN links before must not leave it at "cdn")
        panel_resources.RESOURCE_MODE = resources.mode if resources is not None else "inline"
        key = _bundle_key(roots, resources, enable_mathjax)
        if key not in bundles:
            bundles[key] = bundle_resources(roots, resources, notebook, reloading, enable_mathjax)
        return copy.deepcopy(bundles[key])  # each page its own lists, as before

    return memoized


def _bundle_key(roots, resources, enable_mathjax) -> tuple:
    """Everything ``bundle_resources`` reads: the resources' settings, the kinds of models on the
    page (MathJax, tables), where the app is served, Panel's configuration and extensions, and
    the modules loaded (a module imported since may define components with their own files)."""
    settings = tuple(
        repr(getattr(resources, name, None))
        for name in ("mode", "root_url", "version", "minified", "log_level", "absolute", "dev")
    )
    kinds = frozenset(type(model) for root in roots for model in root.references())
    configured = tuple(
        repr(getattr(config, name, None))
        for name in (
            "css_files",
            "js_files",
            "js_modules",
            "raw_css",
            "design",
            "theme",
            "notifications",
        )
    )
    return (
        type(resources),
        settings,
        tuple(getattr(resources, "components", ()) or ()),
        kinds,
        enable_mathjax,
        state.rel_path,
        configured,
        tuple(sorted(getattr(panel_extension, "_loaded_extensions", ()))),
        len(sys.modules),
        _resource_mode(),
    )
