#!/usr/bin/env bash
# A newcomer's first hour, on a clean clone of this commit: the README's install route, `make demo`, the README's
# user-test example, a wheel built and installed in a fresh virtualenv, `airflow providers list` showing the
# provider, and the demo run from that wheel. `.ci/run` runs it. Installs reuse uv's cache (no new downloads on a
# warm machine). Usage: tests/newcomer/first_hour.sh [AIRFLOW_VERSION]  (default 3.3.2)
set -euo pipefail
AIRFLOW_VERSION="${1:-${AIRFLOW_VERSION:-3.3.2}}"
REPO="$(cd "$(dirname "$0")/../.." && pwd)"
COMMIT="$(git -C "$REPO" rev-parse HEAD)"
WORK="$(mktemp -d -t apj-first-hour-XXXXXX)"
KEEP="${KEEP_FIRST_HOUR:-0}"
cleanup() { [ "$KEEP" = 1 ] || rm -rf "$WORK"; }
trap cleanup EXIT
# A newcomer's shell has none of CI's Airflow settings.
for name in $(env | grep -oE '^AIRFLOW[A-Z0-9_]*' || true); do unset "$name"; done
step() { printf '\n=== first hour: %s\n' "$*"; }
fail() { printf 'FIRST HOUR FAILED: %s\n' "$*" >&2; exit 1; }

step "clean clone of $COMMIT"
git clone --quiet --no-checkout "$REPO" "$WORK/clone"
git -C "$WORK/clone" checkout --quiet "$COMMIT"
cd "$WORK/clone"

step "make demo (every example DAG against the sandbox)"
make demo AIRFLOW_VERSION="$AIRFLOW_VERSION" | tee "$WORK/demo.out"
grep -q "== chained_vendor_jobs: success" "$WORK/demo.out" || fail "make demo did not run the chained DAG to success"
test "$(grep -c '^== .*: success' "$WORK/demo.out")" -ge 6 || fail "make demo did not run every example DAG"
logs="$(grep -oE 'Logs kept in [^:]+' "$WORK/demo.out" | sed 's/Logs kept in //')"
test -s "$logs/chained_vendor_jobs.log" || fail "the demo's logs are not where its summary says ($logs)"
UV="$WORK/clone/.venv/bin/uv"

step "README install route: pip install . (into a new virtualenv)"
"$UV" venv --quiet --python python3 "$WORK/user"
"$UV" pip install --quiet --python "$WORK/user/bin/python" . "apache-airflow==$AIRFLOW_VERSION" pytest
export AIRFLOW_HOME="$WORK/user-airflow-home"
"$WORK/user/bin/airflow" providers list | grep -q "airflow-provider-jobs" || fail "the README install does not register"

step "the README's user-test example, in a project of its own (the installed plugin, opt-in)"
mkdir -p "$WORK/project"
.venv/bin/python -c "import sys; from pathlib import Path; from tests.newcomer.test_readme import user_project; \
user_project(Path(sys.argv[1]))" "$WORK/project"
(cd "$WORK/project" && "$WORK/user/bin/python" -m pytest -q -p no:cacheprovider) || fail "the README's test example"

step "build the wheel; install it in a fresh virtualenv"
"$UV" build --quiet --wheel --out-dir "$WORK/dist" .
wheel="$(ls "$WORK"/dist/airflow_provider_jobs-*.whl)"
python3 -m zipfile -l "$wheel" | grep -q "airflow_provider_jobs/example_dags/spectrum.py" || fail "no example DAGs in $wheel"
"$UV" venv --quiet --python python3 "$WORK/fresh"
"$UV" pip install --quiet --python "$WORK/fresh/bin/python" "$wheel" "apache-airflow==$AIRFLOW_VERSION"
export AIRFLOW_HOME="$WORK/fresh-airflow-home"
"$WORK/fresh/bin/airflow" providers list | tee "$WORK/providers.out" | grep "airflow-provider-jobs" \
  || fail "airflow providers list does not show the provider installed from the wheel"

step "the demo from the installed wheel (no repository)"
(cd "$WORK" && "$WORK/fresh/bin/python" -m airflow_provider_jobs.demo spectrum_example) | tee "$WORK/wheel-demo.out"
grep -q "== spectrum_example: success" "$WORK/wheel-demo.out" || fail "the demo from the wheel"

printf '\nfirst hour: every step passed (Airflow %s)\n' "$AIRFLOW_VERSION"
