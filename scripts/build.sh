#!/usr/bin/env bash
# Set everything up and build the book into _build/html. Notebooks run inline while they are
# read (the text's {eval} numbers need the kernel); an incremental build reads, and so runs,
# only the notebooks that changed since the last build. Pass --all to rebuild every page
# (needed after a change to nnlib/ alone).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
.venv/bin/jupyter-book build . -W --keep-going "$@"
echo "The book is in _build/html/index.html"
