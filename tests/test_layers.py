"""The layering rule: a module imports only from its own layer or lower ones, lazy imports included.

Layers, lowest first: core (errors, seeding, paths, progress, devices, files, hub, statistics, registry,
fitting, fields) → data → resources → lm → victims → attacks → store → runs → defenses → leaderboard →
benchmark → cli. Inside a package, no import cycle either (lazy imports count).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

import textrobust

PACKAGE = Path(textrobust.__file__).parent
LAYERS = (
    "core",
    "data",
    "resources",
    "lm",
    "victims",
    "attacks",
    "store",
    "runs",
    "defenses",
    "leaderboard",
    "benchmark",
    "cli",
)
CORE_MODULES = frozenset(
    {
        "errors",
        "seeding",
        "paths",
        "progress",
        "devices",
        "files",
        "hub",
        "statistics",
        "registry",
        "fitting",
        "fields",
    }
)


def layer_of(module: str) -> str:
    """The layer of a ``textrobust`` module name (``textrobust.runs.jobs`` → ``runs``)."""
    parts = module.split(".")
    if parts[0] != "textrobust":
        raise ValueError(f"{module} is not a textrobust module")
    if len(parts) == 1:
        return "core"  # the package itself: its version and errors
    top = parts[1]
    if top in CORE_MODULES:
        return "core"
    if top == "__main__":
        return "cli"
    if top not in LAYERS:
        raise ValueError(f"{module} is in no layer; add its package to LAYERS")
    return top


def module_name(path: Path, root: Path = PACKAGE) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(source: str, module: str, is_package: bool) -> Iterator[tuple[str, int]]:
    """Every textrobust module ``source`` imports, anywhere in it (inside functions too), with its line."""
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "textrobust":
                    yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against this module's package
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            if target.split(".")[0] != "textrobust":
                continue
            if target == "textrobust":  # `from textrobust import errors` imports submodules by name
                for alias in node.names:
                    yield (
                        f"textrobust.{alias.name}" if alias.name in CORE_MODULES | set(LAYERS) else target,
                        node.lineno,
                    )
            else:
                yield target, node.lineno


def import_graph(root: Path = PACKAGE) -> dict[str, list[tuple[str, int]]]:
    """Module name → the textrobust modules it imports (with line numbers)."""
    graph = {}
    for path in sorted(root.rglob("*.py")):
        name = module_name(path, root)
        graph[name] = list(imports_of(path.read_text(encoding="utf-8"), name, path.name == "__init__.py"))
    return graph


def upward_imports(graph: Mapping[str, list[tuple[str, int]]]) -> list[str]:
    """Every import that goes up a layer, as ``module:line imports target (layer → higher layer)``."""
    rank = {layer: i for i, layer in enumerate(LAYERS)}
    found = []
    for module, targets in graph.items():
        own = layer_of(module)
        for target, line in targets:
            other = layer_of(target)
            if rank[other] > rank[own]:
                found.append(f"{module}:{line} imports {target} ({own} → {other})")
    return found


def package_of(module: str) -> str:
    """The package a module's cycles are looked for in: its layer's package (``textrobust.runs``), or
    ``textrobust`` for the core modules."""
    layer = layer_of(module)
    return "textrobust" if layer == "core" else f"textrobust.{layer}"


def import_cycles(graph: Mapping[str, list[tuple[str, int]]]) -> list[list[str]]:
    """Every import cycle among the modules of one package (lazy imports count: a cycle hidden in a
    function is still a cycle), each as its modules sorted; found as the strongly connected components of
    the import graph (Tarjan's algorithm)."""
    edges: dict[str, set[str]] = {module: set() for module in graph}
    for module, targets in graph.items():
        for target, _line in targets:
            if target in graph and target != module and package_of(target) == package_of(module):
                edges[module].add(target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for target in sorted(edges[module]):
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in on_stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in sorted(edges):
        if module not in index:
            visit(module)
    return sorted(cycles)


def test_no_import_cycle_inside_a_package() -> None:
    assert import_cycles(import_graph()) == []


def test_an_import_cycle_is_found_even_through_a_lazy_import() -> None:
    graph = {
        "textrobust.runs.a": [("textrobust.runs.b", 1)],
        "textrobust.runs.b": [("textrobust.runs.c", 3)],
        "textrobust.runs.c": [("textrobust.runs.a", 9)],  # say, inside a function
        "textrobust.runs.d": [("textrobust.runs.a", 1)],  # imports into the cycle, is not part of it
        "textrobust.victims": [("textrobust.victims.base", 1)],
        "textrobust.victims.base": [("textrobust.victims", 5)],
        "textrobust.store": [("textrobust.victims", 1)],  # across packages: the layer rule's business
    }
    assert import_cycles(graph) == [
        ["textrobust.runs.a", "textrobust.runs.b", "textrobust.runs.c"],
        ["textrobust.victims", "textrobust.victims.base"],
    ]


def test_a_graph_without_cycles_has_none() -> None:
    graph = {
        "textrobust.runs.a": [("textrobust.runs.b", 1), ("textrobust.runs.c", 2)],
        "textrobust.runs.b": [("textrobust.runs.c", 1)],
        "textrobust.runs.c": [("textrobust.errors", 1)],
        "textrobust.errors": [],
    }
    assert import_cycles(graph) == []


def test_no_module_imports_from_a_higher_layer() -> None:
    graph = import_graph()
    assert len(graph) > 50, "the package's modules were not found"
    assert upward_imports(graph) == []


def test_every_module_belongs_to_a_layer() -> None:
    for module in import_graph():
        assert layer_of(module) in LAYERS


def test_an_upward_import_is_caught_even_inside_a_function() -> None:
    lazy = "def f():\n    from textrobust.cli.tables import print_table\n    return print_table\n"
    graph = {"textrobust.attacks.fake": list(imports_of(lazy, "textrobust.attacks.fake", False))}
    assert upward_imports(graph) == [
        "textrobust.attacks.fake:2 imports textrobust.cli.tables (attacks → cli)"
    ]


def test_a_relative_upward_import_is_caught() -> None:
    source = "from ..store import Store\n"
    graph = {"textrobust.attacks.fake": list(imports_of(source, "textrobust.attacks.fake", False))}
    assert upward_imports(graph) == ["textrobust.attacks.fake:1 imports textrobust.store (attacks → store)"]


def test_imports_within_a_layer_or_downwards_are_allowed() -> None:
    graph = {
        "textrobust.runs.fake": [
            ("textrobust.runs.executor", 1),
            ("textrobust.store", 2),
            ("textrobust.errors", 3),
        ],
        "textrobust.errors": [],
    }
    assert upward_imports(graph) == []


def test_a_temporary_module_with_an_upward_import_fails_the_check(tmp_path: Path) -> None:
    """The check on a real tree: a copy of the package plus one module that imports upwards."""
    import shutil

    root = tmp_path / "textrobust"
    shutil.copytree(PACKAGE, root, ignore=shutil.ignore_patterns("__pycache__", "data"))
    (root / "data").mkdir(exist_ok=True)
    (root / "data" / "__init__.py").write_text("", encoding="utf-8")
    (root / "victims" / "sneaky.py").write_text(
        "def run():\n    from textrobust.runs.jobs import attack_saved_victim\n", encoding="utf-8"
    )
    found = upward_imports(import_graph(root))
    assert found == ["textrobust.victims.sneaky:2 imports textrobust.runs.jobs (victims → runs)"]


@pytest.mark.parametrize("module", ["textrobust.something", "os.path"])
def test_a_module_outside_the_layers_is_an_error(module: str) -> None:
    with pytest.raises(ValueError):
        layer_of(module)
