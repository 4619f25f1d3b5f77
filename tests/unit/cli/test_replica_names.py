"""How the local mesh names and dials the replicas of a gateway."""

from __future__ import annotations

from segue_cli.mesh import peer_target, replica_names, service_of


def test_only_gateways_get_replicas_and_each_is_named_after_its_service() -> None:
    assert replica_names("llm_gateway", 3) == ["llm_gateway", "llm_gateway-2", "llm_gateway-3"]
    assert replica_names("orchestrator", 3) == ["orchestrator"]
    assert [service_of(n) for n in replica_names("seed_gatherer", 2)] == ["seed_gatherer", "seed_gatherer"]
    assert service_of("sim") == "sim"


def test_callers_dial_every_replica_as_one_round_robin_target() -> None:
    assert peer_target(["127.0.0.1:1"]) == "127.0.0.1:1"
    assert peer_target(["127.0.0.1:1", "127.0.0.1:2"]) == "ipv4:127.0.0.1:1,127.0.0.1:2"
