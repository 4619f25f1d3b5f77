"""The simulator's dependencies are the `sim` extra: a service's install (the container image) leaves them out,
so no service may need them."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SIM_ONLY = {"aiohttp", "numpy"}


def _names(requirements: list[str]) -> set[str]:
    return {
        r.split(";")[0].split("[")[0].split("=")[0].split(">")[0].split("<")[0].strip().lower() for r in requirements
    }


def test_the_simulators_dependencies_are_an_extra_not_a_service_dependency() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert not _names(project["dependencies"]) & SIM_ONLY
    assert _names(project["optional-dependencies"]["sim"]) >= SIM_ONLY
    assert "'.[dev,sim]'" in (ROOT / "Makefile").read_text()  # `make venv` still sets up everything


def test_no_service_module_needs_them() -> None:
    """An import of aiohttp or numpy under services/ must be optional (inside `try: ... except ImportError`)."""
    needed = []
    for path in sorted((ROOT / "services").rglob("*.py")):
        tree = ast.parse(path.read_text())
        optional = {
            id(node)
            for handler in ast.walk(tree)
            if isinstance(handler, ast.Try)
            and any(isinstance(h.type, ast.Name) and h.type.id == "ImportError" for h in handler.handlers)
            for node in ast.walk(handler)
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom) and id(node) not in optional:
                modules = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                needed += [f"{path.relative_to(ROOT)}: {m}" for m in modules if m.split(".")[0] in SIM_ONLY]
    assert needed == []
