"""Every overlay renders, validates offline against the Kubernetes schemas, and follows the deployment rules."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from services.common.service_names import BY_PACKAGE
from tests.deploy.conftest import K8S, OVERLAYS, ROOT, Manifest, named, of_kind, render, tool

KUBERNETES_VERSION = "1.32.0"  # native gRPC probes are stable since 1.27
SERVICES = {name.replace("_", "-"): proto for name, proto in BY_PACKAGE.items()}
GATEWAYS_AND_API = ("orchestrator", "llm-gateway", "reccobeat-gateway", "seed-gatherer")
OPERATOR_KINDS = {"PodMonitor", "PrometheusRule"}  # CRDs: not in the Kubernetes schemas


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_object_validates_strictly_against_the_kubernetes_schemas(
    rendered: dict[str, Manifest], overlay: str
) -> None:
    problems = []
    for obj in rendered[overlay]:
        if obj["kind"] in OPERATOR_KINDS:
            continue
        try:
            kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            problems.append(f"{obj['kind']}/{obj['metadata']['name']}: {exc.message}")
    assert not problems


def test_the_base_renders_alone_and_every_component_is_used_by_an_overlay() -> None:
    assert {obj["kind"] for obj in render(K8S / "base")} >= {"Deployment", "Service", "HorizontalPodAutoscaler"}
    used = " ".join((K8S / "overlays" / name / "kustomization.yaml").read_text() for name in OVERLAYS)
    for component in (K8S / "components").iterdir():
        assert yaml.safe_load((component / "kustomization.yaml").read_text())["kind"] == "Component", component
        assert f"../../components/{component.name}" in used, f"{component.name} is rendered by no overlay"


def deployments(manifest: Manifest) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in of_kind(manifest, "Deployment") if d["metadata"]["name"] in SERVICES}


def common_config(manifest: Manifest) -> dict[str, str]:
    data: dict[str, str] = named(manifest, "ConfigMap", "segue-common")["data"]
    return data


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_service_is_probed_over_grpc_health_by_its_proto_name(rendered: dict[str, Manifest], overlay: str) -> None:
    found = deployments(rendered[overlay])
    assert set(found) == set(SERVICES)
    for name, deployment in found.items():
        (server,) = deployment["spec"]["template"]["spec"]["containers"]
        port = next(p["containerPort"] for p in server["ports"] if p["name"] == "grpc")
        assert server["readinessProbe"]["grpc"] == {"port": port, "service": SERVICES[name]}, name
        assert server["startupProbe"]["grpc"] == {"port": port, "service": SERVICES[name]}, name
        # liveness asks only whether the process answers: a drain or a Redis outage must not restart it
        assert server["livenessProbe"]["grpc"] == {"port": port, "service": ""}, name


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_grace_period_outlasts_drain_plus_shutdown_grace(rendered: dict[str, Manifest], overlay: str) -> None:
    config = common_config(rendered[overlay])
    needed = float(config["DRAIN_DELAY_S"]) + float(config["SHUTDOWN_GRACE_S"])
    for name, deployment in deployments(rendered[overlay]).items():
        assert deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] > needed, name


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_pod_has_resources_and_runs_restricted(rendered: dict[str, Manifest], overlay: str) -> None:
    manifest = rendered[overlay]
    pods = [(d["metadata"]["name"], d["spec"]["template"]["spec"]) for d in of_kind(manifest, "Deployment")]
    pods += [
        (c["metadata"]["name"], c["spec"]["jobTemplate"]["spec"]["template"]["spec"])
        for c in of_kind(manifest, "CronJob")
    ]
    assert len(pods) >= 5
    for name, pod in pods:
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod["securityContext"].get("runAsUser", 1) != 0, name
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, name
        assert pod.get("automountServiceAccountToken") is False, name
        for container in pod["containers"]:
            for kind in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(container["resources"][kind]), (name, kind)
            security = container["securityContext"]
            assert security["allowPrivilegeEscalation"] is False, name
            assert security["readOnlyRootFilesystem"] is True, name
            assert security["capabilities"]["drop"] == ["ALL"], name


def test_prod_autoscales_every_service_and_keeps_a_disruption_budget(rendered: dict[str, Manifest]) -> None:
    prod = rendered["prod"]
    for name in GATEWAYS_AND_API:
        hpa = named(prod, "HorizontalPodAutoscaler", name)
        assert hpa["apiVersion"] == "autoscaling/v2"
        assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": name}
        assert hpa["spec"]["minReplicas"] >= 2
        assert "replicas" not in named(prod, "Deployment", name)["spec"], "the HPA owns the replica count"
        pdb = named(prod, "PodDisruptionBudget", name)
        assert pdb["spec"]["selector"]["matchLabels"] == {"app.kubernetes.io/name": name}
        spread = named(prod, "Deployment", name)["spec"]["template"]["spec"]["topologySpreadConstraints"]
        assert {c["topologyKey"] for c in spread} == {"kubernetes.io/hostname", "topology.kubernetes.io/zone"}


def test_without_redis_the_gateways_pods_together_stay_within_the_upstream_limits(
    rendered: dict[str, Manifest],
) -> None:
    # Each pod then keeps to 1/SCHEDULER_REPLICAS of its upstream's limits: as many as the HPA may run.
    prod = rendered["prod"]
    for name in ("llm-gateway", "reccobeat-gateway", "seed-gatherer"):
        config = named(prod, "ConfigMap", f"{name}-config")["data"]
        assert int(config["SCHEDULER_REPLICAS"]) >= named(prod, "HorizontalPodAutoscaler", name)["spec"]["maxReplicas"]


def test_dev_runs_one_pod_each_and_needs_no_secret_from_outside(rendered: dict[str, Manifest]) -> None:
    dev = rendered["dev"]
    assert not list(of_kind(dev, "HorizontalPodAutoscaler"))
    assert all(d["spec"].get("replicas", 1) == 1 for d in of_kind(dev, "Deployment"))
    secrets = {s["metadata"]["name"] for s in of_kind(dev, "Secret")}
    referenced = set(secret_references(dev))
    assert referenced and referenced <= secrets, f"dev needs Secrets it does not create: {referenced - secrets}"
    assert {d["metadata"]["name"] for d in of_kind(dev, "Deployment")} >= {"redis", "sim"}
    urls = {k: v for c in of_kind(dev, "ConfigMap") for k, v in c.get("data", {}).items() if k.endswith("_BASE_URL")}
    assert urls and all(v.startswith("http://sim.segue.svc.cluster.local:8089/") for v in urls.values()), urls
    assert common_config(dev)["REDIS_URL"].startswith("redis://redis.segue.svc.cluster.local:6379")


def test_prod_reads_keys_and_redis_from_secrets_and_calls_the_real_upstreams(rendered: dict[str, Manifest]) -> None:
    prod = rendered["prod"]
    assert not list(of_kind(prod, "Secret")), "prod Secrets are created out of band, never rendered from git"
    assert {"segue-gemini", "segue-redis", "segue-probe"} <= set(secret_references(prod))
    urls = {k: v for c in of_kind(prod, "ConfigMap") for k, v in c.get("data", {}).items() if k.endswith("_BASE_URL")}
    assert urls == {
        "GEMINI_BASE_URL": "https://generativelanguage.googleapis.com",
        "SPOTIFY_BASE_URL": "https://api.spotify.com/v1",
        "RECCOBEAT_BASE_URL": "https://api.reccobeats.com/v1",
    }
    assert {d["metadata"]["name"] for d in of_kind(prod, "Deployment")} == set(SERVICES)


def secret_references(manifest: Manifest) -> list[str]:
    """Every Secret a pod would read, except optional ones."""
    names = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            ref = node.get("secretKeyRef") or node.get("secretRef")
            if isinstance(ref, dict) and not ref.get("optional"):
                names.append(ref["name"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(manifest)
    return names


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_peers_are_addressed_through_headless_services(rendered: dict[str, Manifest], overlay: str) -> None:
    manifest = rendered[overlay]
    addresses = {
        k: v for c in of_kind(manifest, "ConfigMap") for k, v in c.get("data", {}).items() if k.endswith("_ADDR")
    }
    assert set(addresses) == {"LLM_GATEWAY_ADDR", "SEED_GATHERER_ADDR", "RECCOBEAT_GATEWAY_ADDR"}
    for key, address in addresses.items():
        match = re.fullmatch(r"dns:///([a-z-]+)\.segue\.svc\.cluster\.local:(\d+)", address)
        assert match, f"{key}={address}: peers are dialled with dns:/// so round_robin sees every pod"
        service = named(manifest, "Service", match[1])
        assert service["spec"]["clusterIP"] == "None", f"{match[1]} must be headless"
        target = service["spec"]["selector"]["app.kubernetes.io/name"]
        assert key.startswith(target.replace("-", "_").upper())
        assert int(match[2]) in {p["port"] for p in service["spec"]["ports"]}
    assert float(common_config(manifest)["MAX_CONNECTION_AGE_S"]) <= 300, "clients must re-resolve to see new pods"


def allowed_sources(manifest: Manifest, target: str, port: str) -> list[Any]:
    """The `from` of every ingress rule that lets traffic reach pods named `target` on `port`."""
    labels = {"app.kubernetes.io/name": target}
    for deployment in of_kind(manifest, "Deployment"):
        if deployment["metadata"]["name"] == target:
            labels = deployment["spec"]["template"]["metadata"]["labels"]
    sources: list[Any] = []
    for policy in of_kind(manifest, "NetworkPolicy"):
        selector = policy["spec"]["podSelector"].get("matchLabels", {})
        if not selector.items() <= labels.items():
            continue
        for rule in policy["spec"].get("ingress", []):
            if any(p.get("port") == port for p in rule.get("ports", [])):
                sources.append(rule.get("from", "anyone"))
    return sources


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_only_the_orchestrator_takes_calls_from_outside_the_mesh(rendered: dict[str, Manifest], overlay: str) -> None:
    manifest = rendered[overlay]
    default_deny = named(manifest, "NetworkPolicy", "default-deny-ingress")["spec"]
    assert default_deny == {"podSelector": {}, "policyTypes": ["Ingress"]}

    def callers(target: str) -> set[str]:
        return {
            peer["podSelector"]["matchLabels"]["app.kubernetes.io/name"]
            for sources in allowed_sources(manifest, target, "grpc")
            for peer in sources
        }

    assert allowed_sources(manifest, "orchestrator", "grpc") == ["anyone"]
    assert callers("llm-gateway") == {"orchestrator"}
    assert callers("seed-gatherer") == {"orchestrator"}
    assert callers("reccobeat-gateway") == {"orchestrator", "seed-gatherer"}
    for name in SERVICES:  # and Prometheus reaches every metrics port
        (scrapers,) = allowed_sources(manifest, name, "metrics")
        assert scrapers[0]["podSelector"]["matchLabels"] == {"app.kubernetes.io/name": "prometheus"}


def test_the_prometheus_rule_is_rules_yml_and_valid(rendered: dict[str, Manifest]) -> None:
    check = [sys.executable, str(ROOT / "scripts/prometheus_rule.py"), "--check"]
    generated = subprocess.run(check, capture_output=True, text=True)
    assert generated.returncode == 0, generated.stderr
    rule = named(rendered["prod"], "PrometheusRule", "segue")
    assert rule["spec"] == yaml.safe_load((ROOT / "deploy/prometheus/rules.yml").read_text())


def test_operator_objects_match_the_operators_crd_schemas(rendered: dict[str, Manifest]) -> None:
    """The PodMonitor and PrometheusRule against the Prometheus Operator's own CRD schemas (types, enums,
    required fields), through @kubernetes-models/prometheus-operator, which `make test` installs from npm."""
    modules = ROOT / ".tools" / "node_modules"
    if not (modules / "@kubernetes-models" / "prometheus-operator").is_dir():
        pytest.fail(
            "@kubernetes-models/prometheus-operator is not in .tools/: `make test` (or test-deploy) installs it"
        )
    node = tool("node", "Node.js 20 or later (the machine's node)")
    objects = [o for o in rendered["prod"] if o["kind"] in OPERATOR_KINDS]
    assert {o["kind"] for o in objects} == OPERATOR_KINDS
    script = ROOT / "tests" / "deploy" / "validate_operator_objects.mjs"
    checked = subprocess.run(
        [node, str(script), str(modules)], input=json.dumps(objects), capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    # The check can fail: the same PodMonitor with a scrape interval of the wrong type is refused.
    monitor = next(o for o in objects if o["kind"] == "PodMonitor")
    broken = json.loads(json.dumps(monitor))
    broken["spec"]["podMetricsEndpoints"][0]["interval"] = 30
    refused = subprocess.run(
        [node, str(script), str(modules)], input=json.dumps([broken]), capture_output=True, text=True
    )
    assert refused.returncode == 1 and "interval" in refused.stdout, refused.stdout + refused.stderr


# The PodMonitor fields segue uses, as the Prometheus Operator's monitoring.coreos.com/v1 API defines them,
# with unknown fields rejected (like kubernetes-validate --strict; the CRD schemas above prune them instead of
# refusing). The PrometheusRule's content is checked by promtool (tests/deploy/test_prometheus_rules.py).
_LABELS = {"type": "object", "additionalProperties": {"type": "string"}}
_DURATION = "^(0|(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$"
POD_MONITOR = {
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "additionalProperties": False,
    "properties": {
        "apiVersion": {"const": "monitoring.coreos.com/v1"},
        "kind": {"const": "PodMonitor"},
        "metadata": {"type": "object"},
        "spec": {
            "type": "object",
            "required": ["selector", "podMetricsEndpoints"],
            "additionalProperties": False,
            "properties": {
                "selector": {"type": "object", "properties": {"matchLabels": _LABELS}, "additionalProperties": False},
                "podMetricsEndpoints": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {
                            "port": {"type": "string"},
                            "path": {"type": "string"},
                            "interval": {"type": "string", "pattern": _DURATION},
                            "relabelings": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "additionalProperties": False,
                                    "properties": {
                                        "sourceLabels": {"type": "array", "items": {"type": "string"}},
                                        "targetLabel": {"type": "string"},
                                        "replacement": {"type": "string"},
                                        "regex": {"type": "string"},
                                        "action": {"type": "string"},
                                    },
                                },
                            },
                        },
                    },
                },
            },
        },
    },
}


def test_the_pod_monitor_scrapes_every_segue_pods_metrics_port(rendered: dict[str, Manifest]) -> None:
    monitor = named(rendered["prod"], "PodMonitor", "segue")
    jsonschema.validate(monitor, POD_MONITOR)
    assert monitor["spec"]["selector"]["matchLabels"] == {"app.kubernetes.io/part-of": "segue"}
    for deployment in deployments(rendered["prod"]).values():
        assert deployment["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/part-of"] == "segue"
        (server,) = deployment["spec"]["template"]["spec"]["containers"]
        assert "metrics" in {p["name"] for p in server["ports"]}
