# segue — every entry point a user or CI needs. `make demo` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
PROTOS := $(shell find protos -name '*.proto')
GEN    := gen/.generated

.PHONY: all venv protos demo up test test-unit test-integration test-security test-sim test-deploy test-chaos lint bench bench-quick constraints clean

all: protos

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev,sim]'
	$(PY) scripts/link_gen.py
	touch $@

venv: $(STAMP)

# Stubs are generated, never committed: gen/ is on the venv's path through a .pth file.
# scripts/gen_protos.py is the one recipe; deploy/Dockerfile runs it too.
$(GEN): $(PROTOS) $(STAMP) scripts/gen_protos.py
	$(PY) scripts/gen_protos.py --typed

protos: $(GEN)

demo: protos
	$(PY) -m segue_cli demo

up: protos
	$(PY) -m segue_cli up

# buf from npm into .tools/ (ignored by git), pinned: `make lint` installs it on first use.
BUF_VERSION := 1.75.0
BUF := .tools/node_modules/.bin/buf
BUF_STAMP := .tools/.buf-$(BUF_VERSION)

$(BUF_STAMP):
	npm install --prefix .tools --no-audit --no-fund --loglevel=error @bufbuild/buf@$(BUF_VERSION)
	touch $@

# The Prometheus Operator's CRD schemas, as @kubernetes-models generates them: tests/deploy validates the
# PodMonitor and PrometheusRule against them (kubernetes-validate has only the built-in kinds).
OPERATOR_MODELS_VERSION := 6.0.0
OPERATOR_MODELS_STAMP := .tools/.operator-models-$(OPERATOR_MODELS_VERSION)

$(OPERATOR_MODELS_STAMP):
	npm install --prefix .tools --no-audit --no-fund --loglevel=error @kubernetes-models/prometheus-operator@$(OPERATOR_MODELS_VERSION)
	touch $@

test: protos $(OPERATOR_MODELS_STAMP)
	$(PY) scripts/run_pytest.py $(PYTEST_ARGS)

test-unit: protos
	$(PY) scripts/run_pytest.py tests/unit tests/sim $(PYTEST_ARGS)

test-integration: protos
	$(PY) scripts/run_pytest.py tests/integration $(PYTEST_ARGS)

test-security: protos
	$(PY) scripts/run_pytest.py tests/security $(PYTEST_ARGS)

# Faults under load against a real mesh (a few minutes); `make test` runs them too.
test-chaos: protos
	$(PY) scripts/run_pytest.py tests/chaos $(PYTEST_ARGS)

test-sim: protos
	$(PY) scripts/run_pytest.py tests/sim $(PYTEST_ARGS)

# Manifests, Dockerfile and Prometheus rules (render, validate offline, policies, promtool).
test-deploy: protos $(OPERATOR_MODELS_STAMP)
	$(PY) scripts/run_pytest.py tests/deploy $(PYTEST_ARGS)

lint: protos $(BUF_STAMP)
	$(BUF) lint
	$(PY) scripts/buf_breaking.py
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/hadolint deploy/Dockerfile

bench: protos
	$(PY) -m bench

bench-quick: protos
	$(PY) -m bench --quick

# Re-resolve every pin from pyproject.toml into constraints.txt.
constraints:
	rm -rf .venv-resolve && $(PYTHON) -m venv .venv-resolve
	.venv-resolve/bin/pip install --quiet --disable-pip-version-check '.[dev,sim]'
	(echo '# Exact versions of every package, resolved together (pip install -c constraints.txt).'; \
	 echo '# Regenerate with: make constraints'; \
	 .venv-resolve/bin/pip freeze --exclude-editable | grep -v '^segue') > constraints.txt
	rm -rf .venv-resolve

clean:
	rm -rf gen .tools $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info
