"""Each service's full gRPC name, read from its proto descriptor: never typed by hand.

Health checks, reflection and the per-method metrics of a server use these names, and so does the CLI
when it waits for a mesh to become ready.
"""

from __future__ import annotations

from google.protobuf.descriptor import FileDescriptor
from segue.v1 import llm_gateway_pb2, orchestrator_pb2, reccobeat_gateway_pb2, seed_gatherer_pb2


def full_name(file: FileDescriptor) -> str:
    """The one service a segue/v1 file declares, e.g. "segue.v1.Orchestrator"."""
    (service,) = file.services_by_name.values()
    return service.full_name


ORCHESTRATOR = full_name(orchestrator_pb2.DESCRIPTOR)
SEED_GATHERER = full_name(seed_gatherer_pb2.DESCRIPTOR)
LLM_GATEWAY = full_name(llm_gateway_pb2.DESCRIPTOR)
RECCOBEAT_GATEWAY = full_name(reccobeat_gateway_pb2.DESCRIPTOR)

# By the package that serves it (services/<package>), as `segue up` starts them.
BY_PACKAGE = {
    "orchestrator": ORCHESTRATOR,
    "llm_gateway": LLM_GATEWAY,
    "seed_gatherer": SEED_GATHERER,
    "reccobeat_gateway": RECCOBEAT_GATEWAY,
}
