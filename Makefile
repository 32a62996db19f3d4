# The two commands: `make test` and `make demo`. Each creates its virtualenv when missing.
SHELL := /bin/bash
# The Airflow release CI tests; override with e.g. `make test AIRFLOW_VERSION=2.11.2 VENV=.venv-af2`.
AIRFLOW_VERSION ?= 3.3.2
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-airflow-$(AIRFLOW_VERSION)
PYTEST_ARGS ?=

.PHONY: test demo lint typecheck venv bench e2e clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --disable-pip-version-check uv
	$(VENV)/bin/uv pip install --quiet --python $(PY) -e ".[test]" "apache-airflow==$(AIRFLOW_VERSION)"
	@rm -f $(VENV)/.installed-airflow-*
	@touch $(STAMP)

lint: venv
	$(VENV)/bin/ruff check airflow_provider_jobs tests example_dags $(wildcard benchmarks)

typecheck: venv
	$(VENV)/bin/mypy airflow_provider_jobs

test: venv lint typecheck
	$(PY) -m pytest $(PYTEST_ARGS)

demo: venv
	$(PY) -m airflow_provider_jobs.demo

bench: venv
	$(PY) benchmarks/triggerer_scale.py

# A real Airflow 3 deployment (scheduler, triggerer, DAG processor, API server) against the sandbox,
# plus the connection form and extra link in headless Chromium.
e2e: venv
	$(VENV)/bin/uv pip install --quiet --python $(PY) -e ".[test,e2e]" "apache-airflow==$(AIRFLOW_VERSION)"
	bash tests/e2e/install_browser.sh
	$(PY) tests/e2e/run_e2e.py

clean:
	rm -rf .venv .venv-* .airflow_home*
