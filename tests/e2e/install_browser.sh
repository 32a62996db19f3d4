#!/usr/bin/env bash
# Debian's Chromium for the e2e UI check (driven by Playwright through executable_path).
# Idempotent: does nothing when /usr/bin/chromium is already there. Never downloads a browser
# build of its own (no `playwright install`): the browser comes from the distribution's packages.
set -euo pipefail

CHROMIUM=/usr/bin/chromium

if [[ -x "$CHROMIUM" ]]; then
    echo "chromium: $("$CHROMIUM" --version 2>/dev/null || echo present) ($CHROMIUM)"
    exit 0
fi

SUDO=()
if [[ "$(id -u)" != 0 ]]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO=(sudo)
    else
        echo "install_browser.sh: $CHROMIUM is missing and this is not root (no sudo): install the" \
             "'chromium' package, then run make e2e again." >&2
        exit 1
    fi
fi

export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends chromium

if [[ ! -x "$CHROMIUM" ]]; then
    echo "install_browser.sh: apt-get installed chromium but $CHROMIUM is not there" >&2
    exit 1
fi
echo "chromium: $("$CHROMIUM" --version 2>/dev/null || echo installed) ($CHROMIUM)"
