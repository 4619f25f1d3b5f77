"""Put the generated stubs (gen/) on the virtualenv's import path with a .pth file.

protoc writes imports that follow the proto path (`from segue.v1 import common_pb2`), so gen/ itself
must be an import root; a .pth file does that for every process the venv's python starts.
"""

import pathlib
import sysconfig

root = pathlib.Path(__file__).resolve().parent.parent
site_packages = pathlib.Path(sysconfig.get_paths()["purelib"])
(site_packages / "segue-gen.pth").write_text(f"{root / 'gen'}\n")
