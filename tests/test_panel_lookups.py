"""Panel's resource look-ups, kept per process (whatif.app.panel_lookups): same answers as Panel's
own, computed once, and computed afresh under autoreload."""

from __future__ import annotations

import panel as pn
import pytest
from panel.custom import ReactiveESM
from panel.io import resources
from panel.io import server as panel_server
from panel.util import classproperty
from panel_material_ui.base import MaterialComponent

from whatif.app import panel_lookups
from whatif.app.panel_lookups import memoize_panel_lookups


def _component_classes() -> list[type]:
    import panel_material_ui  # noqa: F401 - its components are the ones the planner makes

    seen, todo = [], [ReactiveESM]
    while todo:
        cls = todo.pop()
        seen.append(cls)
        todo.extend(cls.__subclasses__())
    return seen


@pytest.fixture
def original(monkeypatch):
    """Panel's own look-ups, restored after the test; the memoized ones installed."""
    monkeypatch.setattr(ReactiveESM, "_bundle_path", ReactiveESM.__dict__["_bundle_path"])
    monkeypatch.setattr(MaterialComponent, "_bundle_css", MaterialComponent.__dict__["_bundle_css"])
    monkeypatch.setattr(resources, "_is_subpath", resources._is_subpath)
    # the page bundles too, so that installing again below does not wrap the kept ones twice
    monkeypatch.setattr(panel_server, "bundle_resources", panel_server.bundle_resources)
    bundle_path = ReactiveESM.__dict__["_bundle_path"]
    bundle_css = MaterialComponent.__dict__["_bundle_css"]
    if isinstance(bundle_path, panel_lookups._MemoizedClassProperty):  # installed before
        bundle_path = classproperty(bundle_path.compute)
        bundle_css = classproperty(MaterialComponent.__dict__["_bundle_css"].compute)
        monkeypatch.setattr(ReactiveESM, "_bundle_path", bundle_path)
        monkeypatch.setattr(MaterialComponent, "_bundle_css", bundle_css)
    classes = _component_classes()
    before = {
        cls: (bundle_path.f(cls), bundle_css.f(cls) if issubclass(cls, MaterialComponent) else None)
        for cls in classes
    }
    memoize_panel_lookups()
    return before


def test_memoized_lookups_give_panels_answers(original):
    for cls, (path, css) in original.items():
        assert cls._bundle_path == path, cls
        if css is not None:
            assert cls._bundle_css == css, cls
    assert isinstance(ReactiveESM.__dict__["_bundle_path"], panel_lookups._MemoizedClassProperty)
    dist = resources.DIST_DIR
    assert resources._is_subpath(dist / "panel.min.js", dist)
    assert not resources._is_subpath(dist.parent, dist)


class Probe(pn.custom.JSComponent):
    """A component of this module: Panel looks for its bundle beside it."""

    _esm = "export function render() {}"


def _counted_lookups(monkeypatch) -> list[type]:
    calls = []
    prop = ReactiveESM.__dict__["_bundle_path"]
    compute = prop.compute
    monkeypatch.setattr(prop, "compute", lambda cls: calls.append(cls) or compute(cls))
    prop.values.clear()
    return calls


def test_memoized_lookups_are_computed_once(original, monkeypatch):
    calls = _counted_lookups(monkeypatch)
    for _ in range(3):
        assert Probe._bundle_path is None
    assert calls == [Probe]


def test_autoreload_computes_afresh(original, monkeypatch):
    calls = _counted_lookups(monkeypatch)
    monkeypatch.setattr(pn.config, "autoreload", True)
    for _ in range(2):
        Probe._bundle_path  # noqa: B018 - the look-up is the test
    assert calls == [Probe, Probe]


def test_installing_twice_changes_nothing(original):
    prop = ReactiveESM.__dict__["_bundle_path"]
    memoize_panel_lookups()
    assert ReactiveESM.__dict__["_bundle_path"] is prop


def _bundle_fields(bundle) -> dict:
    return {
        name: getattr(bundle, name)
        for name in ("js_files", "js_raw", "css_files", "css_raw", "js_modules", "hashes")
    }


def test_a_pages_scripts_and_stylesheets_are_panels_own_and_made_once_per_kind_of_page(
    monkeypatch,
):
    from bokeh.document import Document
    from bokeh.models import ColumnDataSource, DataTable
    from panel.io import resources as panel_resources
    from panel.io.resources import Resources, bundle_resources

    made = []
    memoized = panel_lookups._memoized_bundles(
        lambda *args: made.append(args) or bundle_resources(*args)
    )
    monkeypatch.setattr(panel_server, "bundle_resources", memoized)
    pages = {}
    for kind, view in (
        ("text", lambda: pn.pane.HTML("<b>headline</b>")),
        ("table", lambda: DataTable(source=ColumnDataSource({"a": [1]}))),
    ):
        doc = Document()
        root = pn.panel(view()).get_root(doc) if kind == "text" else view()
        doc.add_root(root)
        resources = Resources(mode="server")
        first = panel_server.bundle_resources(doc.roots, resources)
        again = panel_server.bundle_resources(doc.roots, resources)
        assert _bundle_fields(first) == _bundle_fields(bundle_resources(doc.roots, resources))
        assert _bundle_fields(again) == _bundle_fields(first)
        assert again.js_files is not first.js_files  # each page its own lists
        pages[kind] = first
    assert len(made) == 2  # once per kind of page
    # a page in another mode (a brief with CDN links, say) leaves Panel's mode at "cdn"; a served
    # page's bundle, even when kept, sets it back to its own (its components' files are local)
    bundle_resources(doc.roots, Resources(mode="cdn"))
    assert panel_resources.RESOURCE_MODE == "cdn"
    panel_server.bundle_resources(doc.roots, Resources(mode="server"))
    assert panel_resources.RESOURCE_MODE == "server" and len(made) == 2
    tables = [str(f) for f in pages["table"].js_files if "tables" in str(f)]
    assert tables and not [f for f in pages["text"].js_files if "tables" in str(f)]
