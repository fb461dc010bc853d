"""The package's shape: import direction and public surfaces."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "proctor"
LAYERS = {
    "models": 0,
    "errors": 0,
    "_syntax": 0,
    "_files": 0,
    "_cluster": 0,
    "_display": 0,
    "sandboxes": 1,
    "ledger": 1,
    "tasks": 1,
    "verifiers": 2,
    "loop": 3,
    "scenarios": 4,
    "measure": 4,
    "integrations": 4,
    "testing": 5,
    "cli": 6,
}


def _component(module_path: Path) -> str:
    parts = module_path.relative_to(PACKAGE).with_suffix("").parts
    return parts[0]


def _imported_components(module_path: Path) -> set[str]:
    tree = ast.parse(module_path.read_text())
    found = set()
    for node in ast.walk(tree):
        names = [node.module] if isinstance(node, ast.ImportFrom) and node.module else []
        names += [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
        found |= {name.split(".")[1] for name in names if name.startswith("proctor.") and name.count(".") >= 1}
    return found


@pytest.mark.parametrize("module_path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_flow_one_way(module_path):
    own = _component(module_path)
    if own not in LAYERS:
        return
    for other in _imported_components(module_path):
        assert LAYERS.get(other, 0) <= LAYERS[own] or other == own, f"{own} must not import {other}"


@pytest.mark.parametrize(
    "name",
    [
        "proctor.models",
        "proctor.errors",
        "proctor.sandboxes",
        "proctor.tasks",
        "proctor.verifiers",
        "proctor.ledger",
        "proctor.testing",
    ],
)
def test_public_all_is_sorted_and_exported(name):
    module = importlib.import_module(name)
    assert list(module.__all__) == sorted(module.__all__, key=lambda n: (n.upper() != n, n))
    assert all(hasattr(module, attr) for attr in module.__all__)
