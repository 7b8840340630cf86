#!/usr/bin/env bash
# Set everything up and run every test: lint, nnlib's tests, the grading tests, every notebook
# under nbval, and the book as readers get it (tests/browser: one clean build of the book with
# every notebook executed and warnings as errors, then each page in headless Chromium with the
# network blocked; screenshots and page weights land in test-output/).
# setup.sh dev installs the Python tools, the Debian packages in scripts/apt-packages.txt
# (chromium) and the book's pinned JavaScript (npm).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh dev
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1} MPLBACKEND=Agg PYDEVD_DISABLE_FILE_VALIDATION=1
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/python -m pytest tests --nbval-lax book solutions -p no:cacheprovider "$@"
