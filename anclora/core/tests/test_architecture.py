"""Dependencies point one way (docs/architecture.md): asserted on the import graph read with `ast`
(scripts/import_graph.py; nothing is imported or executed)."""

from __future__ import annotations

import importlib.util
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
_spec = importlib.util.spec_from_file_location("import_graph", ROOT / "scripts" / "import_graph.py")
import_graph = sys.modules.setdefault("import_graph", importlib.util.module_from_spec(_spec))
_spec.loader.exec_module(import_graph)

# The app layers, lowest first: an app may import only apps of a lower layer (`anclora`, the project
# package with urls and settings, composes them all and nothing imports it).
LAYERS = [
    {"anclora.core"},
    {"accounts"},
    {"storage", "idempotency", "apikeys"},
    {"conversions"},
    {"billing", "uploads", "webhooks", "gamification"},
    {"backoffice"},
    {"anclora"},
]
LAYER = {app: rank for rank, apps in enumerate(LAYERS) for app in apps}


@pytest.fixture(scope="module")
def graph():
    return import_graph.build()


def test_every_app_has_a_layer():
    assert set(import_graph.APPS) == set(LAYER)


def test_core_imports_no_domain_app(graph):
    found = [f"{imp.source}:{imp.line} -> {imp.target}" for imp in import_graph.core_domain_imports(graph)]
    assert found == []


def test_no_import_circle_between_apps(graph):
    assert import_graph.cycles(graph.app_edges()) == []
    assert import_graph.cross_app_cycles(graph) == []


# Packages allowed a circle inside them (none left): a new circle anywhere fails;
# list a package here only with a reason.
INTRA_APP_CIRCLES_LEFT: tuple[str, ...] = ()


def test_no_new_module_circle(graph):
    """billing's services/providers/selectors/stripe_sync and conversions' services/tasks circles (issue 16)
    are broken; only the listed packages still have one inside them."""
    for cycle in import_graph.cycles(graph.runtime_edges()):
        assert any(all(module.startswith(prefix) for module in cycle) for prefix in INTRA_APP_CIRCLES_LEFT), cycle


def test_dependencies_point_down_the_layers(graph):
    upward = sorted(f"{imp.source}:{imp.line} -> {imp.target}" for imp in graph.imports
                    if not imp.type_only and import_graph.app_of(imp.source) != import_graph.app_of(imp.target)
                    and LAYER[import_graph.app_of(imp.source)] <= LAYER[import_graph.app_of(imp.target)])
    assert upward == []


def test_the_checks_fail_on_a_domain_import_in_core(tmp_path, monkeypatch):
    """The guard itself: a core module that imports a domain model (even inside a function) is caught."""
    for package in ("anclora/core", "conversions"):
        (tmp_path / package).mkdir(parents=True)
        (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / "anclora" / "__init__.py").write_text("")
    (tmp_path / "conversions" / "models.py").write_text("class Conversion: ...\n")
    (tmp_path / "conversions" / "selectors.py").write_text("from anclora.core.stats import figures\n")
    (tmp_path / "anclora" / "core" / "stats.py").write_text(textwrap.dedent("""
        def figures():
            from conversions.models import Conversion
            return Conversion
    """))
    monkeypatch.setattr(import_graph, "ROOT", tmp_path)
    fake = import_graph.build()
    assert [(i.source, i.target, i.deferred) for i in import_graph.core_domain_imports(fake)] == [
        ("anclora.core.stats", "conversions.models", True)]
    assert import_graph.cycles(fake.app_edges()) == [["anclora.core", "conversions"]]
