#!/usr/bin/env bash
# Set everything up and build the book into _build/html (cached execution: only notebooks
# that changed are run again). Pass --all to rebuild every page.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
.venv/bin/jupyter-book build . -W --keep-going "$@"
echo "The book is in _build/html/index.html"
