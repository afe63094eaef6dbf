"""The code's structure: imports run one way between layers, no module imports itself round.

Layers, lowest first: `core` (the ground floor), `crm`, `privacy`, `campaigns`, `integrations`
(webhooks and the art. 19 notices), `demo` (seed data), `config` (settings, URLs, the Celery
app). A module may import its own layer and the ones
below, never one above; and no chain of imports, including those inside functions, leads from a
module back to itself. Read from the source with `ast`, so nothing is imported to check it.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ("core", "crm", "privacy", "campaigns", "integrations", "demo", "config")
MAX_LINES = 600


def _modules() -> dict[str, Path]:
    found = {}
    for package in LAYERS:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if "migrations" in parts:
                continue
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path) -> set[str]:
    """Return the project modules `name` imports, anywhere in its body."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            targets.add(base)
            targets.update(f"{base}.{alias.name}" for alias in node.names)
    return {_project_module(target) for target in targets} - {None, name}


def _project_module(target: str) -> str | None:
    """Map an imported name to the project module that holds it (a module or its package)."""
    while target:
        if target in MODULES:
            return target
        target = target.rpartition(".")[0]
    return None


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _layer(module: str) -> int:
    return LAYERS.index(module.split(".")[0])


def test_no_module_imports_a_higher_layer():
    upward = sorted(
        f"{module} imports {target}"
        for module, targets in GRAPH.items()
        for target in targets
        if _layer(target) > _layer(module)
    )
    assert upward == []


def _cycles() -> list[list[str]]:
    """Return the strongly connected groups of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in GRAPH[node]:
            # A package's __init__ importing its own modules is how Django finds admin screens.
            if target.startswith(f"{node}."):
                continue
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in GRAPH:
        if node not in index:
            visit(node)
    return groups


def test_no_import_circles():
    assert _cycles() == []


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_module_is_over_600_lines(name):
    lines = MODULES[name].read_text().count("\n")
    assert lines <= MAX_LINES, f"{name} has {lines} lines: make it a package of modules"


def test_the_checks_read_real_imports():
    """The walk finds the imports it is meant to judge (a broken walk would pass everything)."""
    assert "core.audit" in GRAPH["crm.contacts"]
    assert (
        "crm.models" in GRAPH["privacy.models"] or "crm.models" in GRAPH["privacy.consent.ledger"]
    )
    assert _layer("config.urls") > _layer("campaigns.views") > _layer("core.audit")
