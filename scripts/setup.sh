#!/usr/bin/env bash
# Set up the course environment in .venv (idempotent).
#   scripts/setup.sh        the course environment (requirements.txt), as Binder has it
#   scripts/setup.sh dev    plus the test and lint tools (requirements-dev.txt)
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
req=requirements.txt
[ "${1:-}" = dev ] && req=requirements-dev.txt
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r "$req"
