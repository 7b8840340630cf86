#!/usr/bin/env bash
# Set everything up and run every test: lint, nnlib's tests, a clean build of the book with
# warnings as errors, every notebook under nbval, and the grading tests.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh dev
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1} MPLBACKEND=Agg PYDEVD_DISABLE_FILE_VALIDATION=1
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/python -m pytest tests --nbval-lax book solutions -p no:cacheprovider "$@"
