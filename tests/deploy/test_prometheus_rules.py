"""promtool checks the rules, runs the alert unit tests, and checks the scrape configuration."""

from __future__ import annotations

import subprocess

import yaml

from tests.deploy.conftest import ROOT, tool

PROMETHEUS = ROOT / "deploy" / "prometheus"


def promtool(*args: str) -> str:
    binary = tool("promtool", "apt-get install prometheus (.ci/run does)")
    result = subprocess.run([binary, *args], cwd=PROMETHEUS, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_rules_are_valid() -> None:
    assert "SUCCESS" in promtool("check", "rules", "rules.yml")


def test_every_alert_fires_on_its_failure_and_not_on_health() -> None:
    tested = yaml.safe_load((PROMETHEUS / "rules_test.yml").read_text())["tests"]
    groups = yaml.safe_load((PROMETHEUS / "rules.yml").read_text())["groups"]
    alerts = {r["alert"] for g in groups for r in g["rules"] if "alert" in r}
    fired = {c["alertname"] for t in tested for c in t.get("alert_rule_test", []) if c["exp_alerts"]}
    assert fired == alerts, f"alerts without a firing test: {alerts - fired}"
    promtool("test", "rules", "rules_test.yml")


def test_every_alert_has_a_runbook_and_a_severity() -> None:
    for group in yaml.safe_load((PROMETHEUS / "rules.yml").read_text())["groups"]:
        for rule in group["rules"]:
            if "alert" in rule:
                assert rule["labels"]["severity"] in ("page", "ticket"), rule["alert"]
                assert len(rule["annotations"]["runbook"].splitlines()) >= 2, rule["alert"]


def test_the_local_scrape_config_is_valid_and_both_configs_label_alike() -> None:
    promtool("check", "config", "local.yml")
    local = yaml.safe_load((PROMETHEUS / "local.yml").read_text())
    # Debian's promtool is built without Kubernetes discovery, so kubernetes.yml is checked for the labels
    # the rules and the dashboard rely on: job "segue" and a "service" label per pod.
    k8s = yaml.safe_load((PROMETHEUS / "kubernetes.yml").read_text())
    for config in (local, k8s):
        assert config["rule_files"] == ["rules.yml"]
        (job,) = config["scrape_configs"]
        assert job["job_name"] == "segue"
    assert {t["labels"]["service"] for t in local["scrape_configs"][0]["static_configs"]} == {
        "orchestrator", "llm-gateway", "seed-gatherer", "reccobeat-gateway",
    }  # fmt: skip
    relabel = k8s["scrape_configs"][0]["relabel_configs"]
    assert {
        "source_labels": ["__meta_kubernetes_pod_label_app_kubernetes_io_name"],
        "target_label": "service",
    } in relabel
