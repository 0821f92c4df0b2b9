"""The shape of `python/pymcp`: no import cycle between modules, no import from a layer above, and no
module over `MAX_LINES` lines.

Imports are read with `ast` from the source (at module level, inside functions and under `TYPE_CHECKING`
alike: a cycle hidden in a function is still a cycle). A package's `__init__` counts as the module of the
package; importing `a.b` is not counted as importing `a` (Python runs `a/__init__` first, but that is
the package's business, not a dependency of the importer).

What is not there yet is listed below, so this test passes today and fails on any NEW cycle, upward
import or oversized module; it also fails when a listed item is fixed, so the lists only shrink.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "python" / "pymcp"
MAX_LINES = 450

# Known import cycles (each a strongly connected group of modules), to be untangled (issue 10).
KNOWN_CYCLES: list[frozenset[str]] = []  # none left

# The layers, lowest first (docs: DESIGN "Layers"); an import goes down or sideways, never up. Modules
# outside these rooms (private helpers, settings, the 0.3.0 adapters, bench) are not ranked.
LAYERS: dict[str, int] = {
    "pymcp.errors": 0,
    "pymcp._json": 0,
    "pymcp.protocol": 1,
    "pymcp.registry": 2,
    "pymcp.state": 2,
    "pymcp.security": 2,
    "pymcp.tasks": 2,
    "pymcp.server": 3,
    "pymcp.transport": 4,
    "pymcp.app": 5,
    "pymcp.cli": 6,
}

# Known imports from a layer above (importer, imported), to be removed (issue 10).
KNOWN_UPWARD: frozenset[tuple[str, str]] = frozenset()  # none left

# Known modules over MAX_LINES lines, to be split (issue 10).
KNOWN_OVERSIZED: frozenset[str] = frozenset()  # none left


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    """Every module by name: the Python sources, and the Rust extension by its stub (`_core.pyi`)."""
    sources = sorted(PACKAGE.rglob("*.py"))
    stubs = [path for path in sorted(PACKAGE.rglob("*.pyi")) if not path.with_suffix(".py").exists()]
    return {_module_name(path): path for path in [*sources, *stubs]}


def _imported(name: str, path: Path, modules: dict[str, Path]) -> Iterator[str]:
    """The pymcp modules that module `name` imports, anywhere in its source."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names if alias.name in modules)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            for alias in node.names:
                if f"{base}.{alias.name}" in modules:
                    yield f"{base}.{alias.name}"  # `from package import module`
                elif base in modules:
                    yield base


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: set(_imported(name, path, modules)) - {name} for name, path in modules.items()}


def _cycles(graph: dict[str, set[str]]) -> list[frozenset[str]]:
    """The strongly connected groups of more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[frozenset[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, edges = work[-1]
            step = next(edges, None)
            if step is not None:
                if step not in index:
                    index[step] = low[step] = len(index)
                    stack.append(step)
                    on_stack.add(step)
                    work.append((step, iter(sorted(graph[step]))))
                elif step in on_stack:
                    low[node] = min(low[node], index[step])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group: set[str] = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.add(member)
                    if member == node:
                        break
                if len(group) > 1:
                    groups.append(frozenset(group))
    return groups


def _describe(groups: list[frozenset[str]]) -> str:
    return "\n".join("  " + " <-> ".join(sorted(group)) for group in groups)


def test_the_graph_sees_imports_of_every_kind() -> None:
    graph = _graph()
    assert "pymcp.state.base" in graph["pymcp.state.memory"]  # module level
    assert "pymcp.state.redis" in graph["pymcp.state"]  # inside a function
    assert "pymcp.server.dispatch" in graph["pymcp.transport.http"]  # under TYPE_CHECKING


def test_no_new_import_cycle() -> None:
    found = _cycles(_graph())
    new = [group for group in found if not any(group <= known for known in KNOWN_CYCLES)]
    assert not new, f"import cycles not in KNOWN_CYCLES:\n{_describe(new)}"
    fixed = [known for known in KNOWN_CYCLES if not any(group & known for group in found)]
    assert not fixed, f"these cycles are gone: remove them from KNOWN_CYCLES\n{_describe(fixed)}"


def _layer(module: str) -> int | None:
    for room, rank in LAYERS.items():
        if module == room or module.startswith(room + "."):
            return rank
    return None


def test_no_new_upward_import() -> None:
    upward: set[tuple[str, str]] = set()
    for importer, imported in _graph().items():
        below = _layer(importer)
        for target in imported:
            above = _layer(target)
            if below is not None and above is not None and above > below:
                upward.add((importer, target))
    new = sorted(upward - KNOWN_UPWARD)
    assert not new, "imports from a layer above: " + ", ".join(f"{a} -> {b}" for a, b in new)
    fixed = sorted(KNOWN_UPWARD - upward)
    assert not fixed, "gone: remove from KNOWN_UPWARD: " + ", ".join(f"{a} -> {b}" for a, b in fixed)


def test_no_new_oversized_module() -> None:
    sources = {name: path for name, path in _modules().items() if path.suffix == ".py"}
    sizes = {name: len(path.read_text(encoding="utf-8").splitlines()) for name, path in sources.items()}
    oversized = {name for name, size in sizes.items() if size > MAX_LINES}
    new = sorted(oversized - KNOWN_OVERSIZED)
    assert not new, f"modules over {MAX_LINES} lines: " + ", ".join(f"{n} ({sizes[n]})" for n in new)
    fixed = sorted(KNOWN_OVERSIZED - oversized)
    assert not fixed, f"now {MAX_LINES} lines or fewer: remove from KNOWN_OVERSIZED: {', '.join(fixed)}"


def test_handlers_never_import_the_dispatcher() -> None:
    """Each handler room is given the collaborators it needs (DESIGN: never the dispatcher)."""
    graph = _graph()
    handlers = [
        name for name in graph if name == "pymcp.server.handlers" or name.startswith("pymcp.server.handlers.")
    ]
    assert len(handlers) > 5
    reaching = sorted(name for name in handlers if "pymcp.server.dispatch" in graph[name])
    assert not reaching, "handlers that import the dispatcher: " + ", ".join(reaching)
