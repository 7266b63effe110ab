#!/usr/bin/env bash
# Set up fp on a fresh Debian/Ubuntu machine and run a short demo:
#   system packages -> .venv -> fp (editable, with test tools) -> demo.
# FP_SKIP_DEMO=1 skips the demo (CI); FP_SKIP_APT=1 skips system packages.
set -euo pipefail
cd "$(dirname "$0")/.."

# Packages fp and its tests need. make/gcc/python3-dev build wheels that have no
# binary for this platform; ffmpeg is not needed by fp (PyAV bundles FFmpeg) but
# handy to make clips.
APT_PACKAGES=(python3 python3-venv python3-dev gcc make ffmpeg)

if [ "${FP_SKIP_APT:-0}" != 1 ]; then
  missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    echo "==> installing system packages: ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
fi

PY=${PYTHON:-python3}
"$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' || {
  echo "fp needs Python 3.11 or newer (found $("$PY" --version 2>&1)); set PYTHON=..." >&2; exit 1; }

if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv"
  "$PY" -m venv .venv
fi
echo "==> installing fp into .venv"
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[dev]'

if [ "${FP_SKIP_DEMO:-0}" != 1 ]; then
  .venv/bin/python scripts/demo.py
fi
