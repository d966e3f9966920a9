#!/usr/bin/env bash
# Install Debian's Chromium for the real-browser test (tests/e2e/test_browser.py), idempotently.
# Playwright (requirements/ci.txt) drives /usr/bin/chromium; it never downloads a browser,
# so never run `playwright install`. Fonts are installed too, for readable screenshots.
#
#   scripts/install-browser.sh        (as root on Debian/Ubuntu; a no-op when already there)
set -euo pipefail

CHROMIUM=/usr/bin/chromium
PACKAGES=(chromium fonts-liberation fonts-dejavu-core)

die() {
    echo "install-browser: error: $*" >&2
    exit 1
}

missing=()
for package in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done

if [[ -x "$CHROMIUM" && ${#missing[@]} -eq 0 ]]; then
    echo "install-browser: $("$CHROMIUM" --version 2>/dev/null | head -n1) already at $CHROMIUM"
    exit 0
fi
if [[ "$(id -u)" != 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
    die "missing: ${missing[*]:-chromium}; install Debian's packages as root (apt-get install ${PACKAGES[*]})"
fi

echo "install-browser: apt-get install ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq || die "apt-get update failed"
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || die "apt-get install ${missing[*]} failed"
[[ -x "$CHROMIUM" ]] || die "$CHROMIUM missing after installing the chromium package"
echo "install-browser: ok: $("$CHROMIUM" --version 2>/dev/null | head -n1) at $CHROMIUM"
