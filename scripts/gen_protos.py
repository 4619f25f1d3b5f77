"""Generate the Python stubs from protos/ into gen/: the one recipe for `make protos` and deploy/Dockerfile.

protoc's imports follow the proto path (`from segue.v1 import common_pb2`), so gen/ is an import root.
`--typed` adds mypy stubs (the plugins come with the dev extra); the image needs only the runtime code.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--typed", action="store_true", help="also write .pyi stubs with mypy-protobuf")
    parser.add_argument("--out", type=Path, default=ROOT / "gen")
    args = parser.parse_args()
    protos = sorted(str(p.relative_to(ROOT / "protos")) for p in (ROOT / "protos").rglob("*.proto"))
    shutil.rmtree(args.out, ignore_errors=True)
    args.out.mkdir(parents=True)
    argv = ["protoc", f"-I{ROOT / 'protos'}", f"-I{protoc_include()}", f"--python_out={args.out}"]
    argv.append(f"--grpc_python_out={args.out}")
    if args.typed:
        bin_dir = Path(sys.executable).parent
        argv += [
            f"--plugin=protoc-gen-mypy={bin_dir / 'protoc-gen-mypy'}",
            f"--mypy_out={args.out}",
            f"--plugin=protoc-gen-mypy_grpc={bin_dir / 'protoc-gen-mypy_grpc'}",
            f"--mypy_grpc_out={args.out}",
        ]
    if protoc.main([*argv, *protos]) != 0:
        return 1
    for package in {Path(p).parent for p in protos} | {Path("segue"), Path("segue/cache")}:
        (args.out / package / "__init__.py").touch()
    (args.out / "segue" / "py.typed").touch()
    (args.out / ".generated").touch()
    return 0


def protoc_include() -> str:
    """grpc_tools ships the well-known types (google/protobuf/*.proto) beside itself."""
    import grpc_tools

    return str(Path(grpc_tools.__file__).parent / "_proto")


if __name__ == "__main__":
    sys.exit(main())
