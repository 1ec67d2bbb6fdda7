"""The house rules of ``gateway/``, kept by a test: import direction, no cycles, small pieces.

Imports are read with grimp from the source, without running it. Every import statement
counts: at module level, inside a function, and under ``if TYPE_CHECKING:`` too -- a type-only
import is still a dependency a reader has to follow, and a circle of them is still a circle.
``from pkg import name`` counts as importing ``pkg`` (its ``__init__``), or ``pkg.name`` when
``name`` is a submodule.

- No import cycle among gateway modules, and none among gateway's top-level packages
  (``gateway.access`` -> ``gateway.facility`` -> ``gateway.access`` is a circle even when no two
  modules import each other).
- The composition root ``gateway.runtime`` is imported only by the entry point
  ``gateway.cli`` and by itself (tests may import it; they are not in ``gateway/``).
- The store is the bottom layer: ``gateway.store`` imports none of the services above it.
- No module over 300 lines and no function over 60 lines (``def`` line to last line, decorators
  not counted; migrations exempt, they are frozen history), unless the module's first lines or
  the function's first body line carry ``# size: <reason>``.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "gateway"

COMPOSITION_ROOT = "gateway.runtime"
ROOT_IMPORTERS = {"gateway.cli"}
STORE = "gateway.store"
ABOVE_STORE = (
    "gateway.access",
    "gateway.facility",
    "gateway.api",
    "gateway.publish",
    "gateway.ingest",
    "gateway.runtime",
)

MAX_MODULE_LINES = 300
MAX_FUNCTION_LINES = 60
SIZE_MARK = "# size:"
HEAD_LINES = 10  # how far down a module's ``# size:`` reason may stand


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("gateway", exclude_type_checking_imports=False, cache_dir=None)


def _components(edges: Mapping[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one node (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges.get(start, ()))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp: list[str] = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    comp.append(top)
                    if top == node:
                        break
                if len(comp) > 1:
                    found.append(sorted(comp))
    return found


def _edges(graph: grimp.ImportGraph) -> dict[str, set[str]]:
    return {m: set(graph.find_modules_directly_imported_by(m)) for m in graph.modules}


def _top(module: str) -> str:
    return ".".join(module.split(".")[:2])


def _describe(graph: grimp.ImportGraph, comp: list[str]) -> str:
    members = set(comp)
    lines = [f"cycle of {len(comp)}: {', '.join(comp)}"]
    for importer in comp:
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            if imported in members:
                details = graph.get_import_details(importer=importer, imported=imported)
                where = ", ".join(str(d["line_number"]) for d in details)
                lines.append(f"  {importer} -> {imported} (line {where})")
    return "\n".join(lines)


def test_the_cycle_finder_finds_circles() -> None:
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": {"e"}, "e": {"d"}, "f": {"a"}}
    assert sorted(_components(edges)) == [["a", "b", "c"], ["d", "e"]]


def test_no_import_cycle_among_modules(graph: grimp.ImportGraph) -> None:
    assert len(graph.modules) > 100  # the graph is the package, not an empty shell
    found = _components(_edges(graph))
    assert not found, "\n".join(_describe(graph, c) for c in found)


def test_no_import_cycle_among_top_level_packages(graph: grimp.ImportGraph) -> None:
    edges: dict[str, set[str]] = {}
    via: dict[tuple[str, str], list[str]] = {}
    for importer, imported_set in _edges(graph).items():
        for imported in imported_set:
            a, b = _top(importer), _top(imported)
            if a != b:
                edges.setdefault(a, set()).add(b)
                via.setdefault((a, b), []).append(f"{importer} -> {imported}")
    found = _components(edges)
    report = []
    for comp in found:
        report.append(f"package cycle: {', '.join(comp)}")
        for a in comp:
            for b in sorted(edges.get(a, set()) & set(comp)):
                report.append(f"  {a} -> {b}: {'; '.join(sorted(via[(a, b)])[:3])}")
    assert not found, "\n".join(report)


def test_only_the_entry_point_imports_the_composition_root(graph: grimp.ImportGraph) -> None:
    root = [
        m for m in graph.modules if m == COMPOSITION_ROOT or m.startswith(COMPOSITION_ROOT + ".")
    ]
    importers: set[str] = set()
    for module in root:
        importers |= graph.find_modules_that_directly_import(module)
    outside = {
        m
        for m in importers
        if not (m == COMPOSITION_ROOT or m.startswith(COMPOSITION_ROOT + "."))
        and m not in ROOT_IMPORTERS
    }
    assert not outside, f"{COMPOSITION_ROOT} is imported by {sorted(outside)}"


def test_the_store_imports_nothing_above_it(graph: grimp.ImportGraph) -> None:
    store = [m for m in graph.modules if m == STORE or m.startswith(STORE + ".")]
    bad = sorted(
        f"{m} -> {imported}"
        for m in store
        for imported in graph.find_modules_directly_imported_by(m)
        if any(imported == up or imported.startswith(up + ".") for up in ABOVE_STORE)
    )
    assert not bad, "the store reaches up: " + "; ".join(bad)


class _Functions(ast.NodeVisitor):
    """Every function with its qualified name (``Class.method``, ``outer.inner``)."""

    def __init__(self) -> None:
        self.found: list[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]] = []
        self._names: list[str] = []

    def _enter(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> None:
        self._names.append(node.name)
        if not isinstance(node, ast.ClassDef):
            self.found.append((".".join(self._names), node))
        self.generic_visit(node)
        self._names.pop()

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = _enter


def _oversize() -> list[str]:
    """Every module and function over its limit without a reason, with its size."""
    found: list[str] = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if "/migrations/" in rel:
            continue
        lines = path.read_text(encoding="utf-8").splitlines()
        if len(lines) > MAX_MODULE_LINES and not any(
            SIZE_MARK in line for line in lines[:HEAD_LINES]
        ):
            found.append(f"{rel}: {len(lines)} lines")
        functions = _Functions()
        functions.visit(ast.parse("\n".join(lines), rel))
        for name, fn in functions.found:
            length = (fn.end_lineno or fn.lineno) - fn.lineno + 1
            head = lines[fn.lineno - 1 : fn.body[0].lineno]
            if length > MAX_FUNCTION_LINES and not any(SIZE_MARK in line for line in head):
                found.append(f"{rel}:{fn.lineno} {name}: {length} lines")
    return found


def test_modules_and_functions_are_small() -> None:
    over = _oversize()
    assert not over, (
        f"over {MAX_MODULE_LINES} lines a module or {MAX_FUNCTION_LINES} a function, "
        f"split it or give a '{SIZE_MARK} <reason>' line:\n" + "\n".join(over)
    )
