# The two commands: `make test` and `make demo`. Each creates its virtualenv when missing.
SHELL := /bin/bash
# The Airflow release CI tests; override with e.g. `make test AIRFLOW_VERSION=2.11.2 VENV=.venv-af2`.
AIRFLOW_VERSION ?= 3.3.2
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-airflow-$(AIRFLOW_VERSION)
PYTEST_ARGS ?=

.PHONY: test demo lint typecheck venv bench e2e e2e-cluster clean reliability-report

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --disable-pip-version-check uv
	$(VENV)/bin/uv pip install --quiet --python $(PY) -e ".[test]" "apache-airflow==$(AIRFLOW_VERSION)"
	@rm -f $(VENV)/.installed-airflow-*
	@touch $(STAMP)

lint: venv
	$(VENV)/bin/ruff check airflow_provider_jobs tests example_dags $(wildcard benchmarks)

# mypy checks the package against Airflow 3's own types (the Airflow 2 branches of core/compat.py are the
# untyped fallback): on an Airflow 2 virtualenv there is nothing to check it against.
typecheck: venv
ifeq ($(firstword $(subst ., ,$(AIRFLOW_VERSION))),2)
	@echo "typecheck: mypy runs against Airflow 3; skipped on Airflow $(AIRFLOW_VERSION)"
else
	$(VENV)/bin/mypy airflow_provider_jobs
endif

test: venv lint typecheck
	$(PY) -m pytest $(PYTEST_ARGS)

# Rewrites docs/reliability.md from what tests/reliability/ proves (a plain `make test` only checks it).
reliability-report: venv
	RELIABILITY_REPORT=1 $(PY) -m pytest tests/reliability -q $(PYTEST_ARGS)

# Every example DAG by default; `make demo DAGS="spectrum_example ocapi"` runs some (DAG ids or file names).
DAGS ?=
demo: venv
	$(PY) -m airflow_provider_jobs.demo $(DAGS)

# The benchmark's peer, the dbt Cloud provider (its trigger), goes into a directory of its own that only the
# peer's client process puts on its path: the virtualenv `make test` uses stays as it is. uv resolves it
# against the virtualenv (a dry run) and installs just what that adds.
BENCH_PEER := $(VENV)/bench-peer
$(BENCH_PEER)/.installed: $(STAMP)
	rm -rf $(BENCH_PEER) && mkdir -p $(BENCH_PEER)
	$(VENV)/bin/uv pip install --dry-run --python $(PY) apache-airflow-providers-dbt-cloud 2>&1 \
		| sed -n 's/^ + //p' > $(BENCH_PEER)/requirements.txt
	grep -q '^apache-airflow-providers-dbt-cloud==' $(BENCH_PEER)/requirements.txt
	$(VENV)/bin/uv pip install --quiet --python $(PY) --target $(BENCH_PEER) --no-deps -r $(BENCH_PEER)/requirements.txt
	@touch $@

BENCH_ARGS ?=
bench: venv $(BENCH_PEER)/.installed
	BENCH_PEER_SITE=$(BENCH_PEER) $(PY) benchmarks/triggerer_scale.py $(BENCH_ARGS)
	$(PY) benchmarks/per_call.py  # issue 20 item 1: benchmarks/PER_CALL.md

# A real Airflow 3 deployment (scheduler, triggerer, DAG processor, API server) against the sandbox,
# plus the connection form and extra link in headless Chromium.
e2e: venv
	$(VENV)/bin/uv pip install --quiet --python $(PY) -e ".[test,e2e]" "apache-airflow==$(AIRFLOW_VERSION)"
	bash tests/e2e/install_browser.sh
	$(PY) tests/e2e/run_e2e.py

# The same provider on a production-shaped Airflow: PostgreSQL, the CeleryExecutor (Redis) with two
# workers, two triggerers (docs/deployment.md). Installs Debian's postgresql and redis-server when missing.
E2E_CLUSTER_ARGS ?=
e2e-cluster: venv
	$(VENV)/bin/uv pip install --quiet --python $(PY) -e ".[test,e2e-cluster]" "apache-airflow==$(AIRFLOW_VERSION)"
	bash tests/e2e_cluster/install_services.sh
	$(PY) tests/e2e_cluster/run_cluster.py $(E2E_CLUSTER_ARGS)

clean:
	rm -rf .venv .venv-* .airflow_home*
