#!/usr/bin/env bash
# The Debian packages the tests need: Chromium (the brief's PDF, and the browser tests of
# the HTML pages) and the Noto fonts (Arabic). Installed when missing, as root; otherwise
# stop at once with the one command to run.
set -euo pipefail
packages=(chromium fonts-noto-core fonts-dejavu-core)
if command -v chromium >/dev/null 2>&1 && fc-list 2>/dev/null | grep -q "Noto Sans Arabic"; then
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "The tests need Debian's Chromium and Noto fonts. Run once, then again:" >&2
  echo "  sudo apt-get install -y --no-install-recommends ${packages[*]}" >&2
  exit 1
fi
echo "installing ${packages[*]} (Debian packages the tests need)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
