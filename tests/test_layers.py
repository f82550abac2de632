"""The layering rule: a module imports only from its own layer or lower ones, lazy imports included.

Layers, lowest first: core (errors, seeding, paths, progress, devices, files, hub, statistics) → data →
resources → lm → victims → attacks → store → runs → defenses → leaderboard → cli.
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
    "cli",
)
CORE_MODULES = frozenset({"errors", "seeding", "paths", "progress", "devices", "files", "hub", "statistics"})


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
