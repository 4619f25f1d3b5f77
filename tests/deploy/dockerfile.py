"""deploy/Dockerfile parsed into its stages, as Docker reads it (no engine runs here)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tests.deploy.conftest import ROOT

DOCKERFILE = ROOT / "deploy" / "Dockerfile"
DOCKERIGNORE = ROOT / "deploy" / "Dockerfile.dockerignore"


@dataclass
class Stage:
    name: str
    base: str
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def args(self, instruction: str) -> list[str]:
        return [arg for name, arg in self.instructions if name == instruction]


def stages() -> list[Stage]:
    """Instructions per stage, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    parsed: list[Stage] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        instruction, _, arg = line.partition(" ")
        instruction = instruction.upper()
        if instruction == "FROM":
            base, _, name = arg.partition(" AS ")
            parsed.append(Stage(name.strip(), base.strip()))
        elif parsed:
            parsed[-1].instructions.append((instruction, " ".join(arg.split())))
    return parsed
