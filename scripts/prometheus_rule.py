"""Write deploy/prometheus/rules.yml as the Prometheus Operator's PrometheusRule (one source for both).

.venv/bin/python scripts/prometheus_rule.py          # regenerate after editing rules.yml
.venv/bin/python scripts/prometheus_rule.py --check  # exit 1 when the PrometheusRule is stale (tests run this)
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "deploy/prometheus/rules.yml"
TARGET = ROOT / "deploy/k8s/components/prometheus-operator/prometheus-rule.yaml"
HEADER = "# Generated from deploy/prometheus/rules.yml by scripts/prometheus_rule.py: edit that file, not this one.\n"


class _Dumper(yaml.SafeDumper):
    """Multi-line strings (PromQL, runbooks) as literal blocks, as they are written in rules.yml."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)


_Dumper.add_representer(str, _str)


def render() -> str:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    rule = {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {"name": "segue", "labels": {"app.kubernetes.io/part-of": "segue"}},
        "spec": {"groups": groups},
    }
    return HEADER + yaml.dump(rule, Dumper=_Dumper, sort_keys=False, width=200)


def main() -> int:
    text = render()
    if "--check" in sys.argv:
        if TARGET.read_text() != text:
            print(f"{TARGET.relative_to(ROOT)} is stale: run scripts/prometheus_rule.py", file=sys.stderr)
            return 1
        return 0
    TARGET.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
