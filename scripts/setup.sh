#!/usr/bin/env bash
# Set up the course environment in .venv (idempotent).
#   scripts/setup.sh        the course environment (requirements.txt), as Binder has it
#   scripts/setup.sh dev    plus the test and lint tools (requirements-dev.txt) and the Debian
#                           packages listed in scripts/apt-packages.txt
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
req=requirements.txt
[ "${1:-}" = dev ] && req=requirements-dev.txt
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r "$req"

if [ "${1:-}" = dev ]; then
  missing=()
  while read -r pkg; do
    [ -z "$pkg" ] || dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done < <(sed 's/#.*//' scripts/apt-packages.txt)
  if [ ${#missing[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
      "${missing[@]}" >/dev/null
  fi
fi
