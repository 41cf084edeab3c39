"""The project's import graph, read with `ast` (nothing is imported or executed).

    .venv/bin/python scripts/import_graph.py            # app map, circles, function-level imports
    .venv/bin/python scripts/import_graph.py --dot      # the app graph for Graphviz

anclora/core/tests/test_architecture.py asserts on the same graph: anclora.core imports no
domain app, no import circle between modules of different apps, and the app graph is one-way.
"""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The project's own packages (the "apps"); anclora.core is split out of the project package.
APPS = ("anclora.core", "anclora", "accounts", "storage", "conversions", "billing", "webhooks", "gamification",
        "uploads", "apikeys", "idempotency", "backoffice")
# What the issue calls the domain: everything the shared core must not know about.
DOMAIN_APPS = tuple(app for app in APPS if not app.startswith("anclora"))
SKIP_PARTS = {"migrations", "tests", "management", "__pycache__"}


@dataclass(frozen=True)
class Import:
    source: str        # importing module
    target: str        # imported project module
    line: int
    deferred: bool     # inside a function or method body
    type_only: bool    # under `if TYPE_CHECKING:`


@dataclass
class Graph:
    modules: set[str] = field(default_factory=set)
    imports: list[Import] = field(default_factory=list)

    def runtime_edges(self, *, deferred: bool = True) -> dict[str, set[str]]:
        edges: dict[str, set[str]] = defaultdict(set)
        for imp in self.imports:
            if imp.type_only or (imp.deferred and not deferred) or imp.source == imp.target:
                continue
            edges[imp.source].add(imp.target)
        return edges

    def app_edges(self, *, deferred: bool = True) -> dict[str, set[str]]:
        edges: dict[str, set[str]] = defaultdict(set)
        for source, targets in self.runtime_edges(deferred=deferred).items():
            for target in targets:
                if app_of(source) != app_of(target):
                    edges[app_of(source)].add(app_of(target))
        return edges


def app_of(module: str) -> str:
    for app in APPS:  # anclora.core before anclora
        if module == app or module.startswith(app + "."):
            return app
    return module.split(".")[0]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_files(*, include_tests: bool = False) -> list[Path]:
    files = []
    for top in {app.split(".")[0] for app in APPS}:
        base = ROOT / top
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*.py")):
            parts = set(path.relative_to(ROOT).parts)
            if parts & SKIP_PARTS and not (include_tests and "tests" in parts and not parts & (SKIP_PARTS - {"tests"})):
                continue
            files.append(path)
    return files


class _Visitor(ast.NodeVisitor):
    def __init__(self, module: str, is_package: bool, known: set[str]):
        self.module, self.is_package, self.known = module, is_package, known
        self.depth = 0
        self.type_checking = 0
        self.found: list[Import] = []

    def _add(self, target: str, line: int) -> None:
        # "from a.b import c": c may be a submodule or a name defined in a.b.
        while target and target not in self.known:
            target = target.rpartition(".")[0]
        if target:
            self.found.append(Import(self.module, target, line, self.depth > 0, self.type_checking > 0))

    def _function(self, node):
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _function

    def visit_If(self, node: ast.If) -> None:
        test = node.test
        is_tc = (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
            isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")
        if is_tc:
            self.type_checking += 1
            for child in node.body:
                self.visit(child)
            self.type_checking -= 1
            for child in node.orelse:
                self.visit(child)
        else:
            self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(alias.name, node.lineno)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:
            package = self.module if self.is_package else self.module.rpartition(".")[0]
            for _ in range(node.level - 1):
                package = package.rpartition(".")[0]
            base = f"{package}.{node.module}" if node.module else package
        else:
            base = node.module or ""
        for alias in node.names:
            self._add(f"{base}.{alias.name}", node.lineno)


def build(*, include_tests: bool = False) -> Graph:
    files = project_files(include_tests=include_tests)
    graph = Graph(modules={module_name(path) for path in files})
    known = graph.modules | {module_name(p) for p in project_files(include_tests=True)}
    for path in files:
        visitor = _Visitor(module_name(path), path.name == "__init__.py", known)
        visitor.visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
        graph.imports.extend(visitor.found)
    return graph


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one node (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    nodes = set(edges) | {t for targets in edges.values() for t in targets}

    def strongconnect(node: str) -> None:
        nonlocal counter
        index[node] = low[node] = counter
        counter += 1
        stack.append(node)
        on_stack.add(node)
        for succ in edges.get(node, ()):
            if succ not in index:
                strongconnect(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = []
            while True:
                item = stack.pop()
                on_stack.discard(item)
                component.append(item)
                if item == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10 * len(nodes) + 100))
    try:
        for node in sorted(nodes):
            if node not in index:
                strongconnect(node)
    finally:
        sys.setrecursionlimit(limit)
    return sorted(found)


def cross_app_cycles(graph: Graph) -> list[list[str]]:
    """Module circles that span more than one app (circles inside one app are that app's business)."""
    return [c for c in cycles(graph.runtime_edges()) if len({app_of(m) for m in c}) > 1]


def core_domain_imports(graph: Graph) -> list[Import]:
    return [imp for imp in graph.imports
            if app_of(imp.source) == "anclora.core" and app_of(imp.target) in DOMAIN_APPS]


def deferred_cross_app(graph: Graph) -> list[Import]:
    return [imp for imp in graph.imports
            if imp.deferred and not imp.type_only and app_of(imp.source) != app_of(imp.target)]


def main(argv: list[str]) -> int:
    graph = build()
    app_edges = graph.app_edges()
    if "--dot" in argv:
        print("digraph apps {")
        for source in sorted(app_edges):
            for target in sorted(app_edges[source]):
                print(f'  "{source}" -> "{target}";')
        print("}")
        return 0
    print("App imports (A -> B: a module of A imports B):")
    for source in sorted(app_edges):
        print(f"  {source} -> {', '.join(sorted(app_edges[source]))}")
    problems = 0
    print("\nApp circles:")
    for cycle in cycles(app_edges) or [["none"]]:
        print("  " + " <-> ".join(cycle))
    print("\nModule circles:")
    for cycle in cycles(graph.runtime_edges()) or [["none"]]:
        print("  " + " <-> ".join(cycle))
    problems += len(cross_app_cycles(graph))
    core = core_domain_imports(graph)
    print("\nanclora.core importing a domain app:")
    for imp in core or []:
        print(f"  {imp.source}:{imp.line} -> {imp.target}")
    if not core:
        print("  none")
    problems += len(core)
    print("\nImports inside functions that cross apps:")
    for imp in deferred_cross_app(graph):
        print(f"  {imp.source}:{imp.line} -> {imp.target}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
