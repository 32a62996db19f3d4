#!/usr/bin/env bash
# Debian's PostgreSQL and Redis for `make e2e-cluster`, and the unprivileged user that runs them.
# Idempotent: installs a package only when its server binary is missing, creates the user only when it
# is not there. Starts nothing: tests/e2e_cluster/run_cluster.py starts both servers on 127.0.0.1 (free
# ports, data in a temp dir) and removes them at the end. PostgreSQL refuses to run as root, so as root
# both run as $E2E_USER (default apj-e2e, a system user without a login shell or home).
set -euo pipefail

E2E_USER="${E2E_USER:-apj-e2e}"

postgres_bin() {
    # The newest installed major version's server binaries (Debian keeps them off PATH).
    ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

SUDO=()
if [[ "$(id -u)" != 0 ]] && command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
fi

missing=()
pgbin="$(postgres_bin)"
[[ -n "$pgbin" && -x "$pgbin/postgres" && -x "$pgbin/initdb" ]] || missing+=(postgresql)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)

if ((${#missing[@]})); then
    if [[ "$(id -u)" != 0 && ${#SUDO[@]} == 0 ]]; then
        echo "install_services.sh: ${missing[*]} missing and this is not root (no sudo): install the" \
             "Debian packages ${missing[*]}, then run make e2e-cluster again." >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    "${SUDO[@]}" apt-get update -qq
    # policy-rc.d: the packages' own services (the distribution's default cluster on 5432, redis on
    # 6379) must not start: the test runs its own servers on free ports.
    policy=/usr/sbin/policy-rc.d
    added_policy=0
    if [[ "$(id -u)" == 0 && ! -e "$policy" ]]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && added_policy=1
    fi
    "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
    if ((added_policy)); then rm -f "$policy"; fi
    pgbin="$(postgres_bin)"
fi

if [[ "$(id -u)" == 0 ]] && ! id -u "$E2E_USER" >/dev/null 2>&1; then
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$E2E_USER"
    echo "created the unprivileged user $E2E_USER (runs PostgreSQL and Redis for make e2e-cluster)"
fi

echo "postgresql: $("$pgbin/postgres" --version) ($pgbin)"
echo "redis: $(redis-server --version | cut -d' ' -f1-3)"
