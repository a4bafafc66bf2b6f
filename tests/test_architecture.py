"""The package's import structure: no cycles, and a domain core that knows nothing of HTTP.

Read from the source (``ast``), not by importing, so an import hidden in a function or behind
``if TYPE_CHECKING:`` counts as much as one at the top of a module: a cycle held together that
way is still a cycle, and the test would otherwise pass by looking away from it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

import pixelbin_emulator

PACKAGE = Path(pixelbin_emulator.__file__).parent
NAME = "pixelbin_emulator"
CORE = f"{NAME}.core"
HTTP_PACKAGES = ("flask", "werkzeug", "waitress", "jinja2")


def _modules() -> dict[str, Path]:
    modules = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


MODULES = _modules()
TREES = {
    module: ast.parse(path.read_text(encoding="utf-8"), str(path))
    for module, path in MODULES.items()
}


def _imports(module: str) -> Iterator[tuple[str, ast.stmt]]:
    """Every module ``module`` imports, anywhere in it, with the statement that does.

    ``from .x import y`` names the submodule ``x.y`` if there is one, else ``x``.
    """
    package = module if MODULES[module].name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(TREES[module]):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            for alias in node.names:
                candidate = f"{prefix}.{alias.name}"
                yield (candidate if candidate in MODULES else prefix), node


def _graph() -> dict[str, set[str]]:
    return {
        module: {name for name, _ in _imports(module) if name in MODULES and name != module}
        for module in MODULES
    }


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"e"}}
    assert _cycles(graph) == [["a", "b", "c"]]


def test_the_package_has_no_import_cycle() -> None:
    assert _cycles(_graph()) == []


def test_no_package_import_hides_in_a_function_or_behind_type_checking() -> None:
    """Imports of the package's own modules sit at the top of the module, where an import
    cycle cannot be dodged (imports of optional or platform-only libraries may be deferred)."""
    hidden = []
    for module, tree in TREES.items():
        top = set(tree.body)
        for name, node in _imports(module):
            if name.startswith(NAME) and node not in top:
                hidden.append(f"{module}:{node.lineno} imports {name}")
    assert hidden == []


@pytest.mark.parametrize("module", [m for m in MODULES if m.startswith(CORE)])
def test_the_core_imports_no_http_and_nothing_above_it(module: str) -> None:
    """The domain core is plain Python: the HTTP layer depends on it, never the reverse."""
    wrong = sorted(
        name
        for name, _ in _imports(module)
        if name.split(".")[0] in HTTP_PACKAGES
        or (name.split(".")[0] == NAME and not (name == CORE or name.startswith(f"{CORE}.")))
    )
    assert wrong == []
