#!/usr/bin/env bash
# Regenerate the student notebooks exercises/<a>/<a>.ipynb from the instructor's sources
# solutions/<a>/<a>.ipynb with `nbgrader generate_assignment` (solutions replaced by the stub,
# hidden tests removed, outputs cleared, cells locked and checksummed), and next to each the
# visible checks exercises/<a>/<a>.checks.json for the students' self-check `python -m nncheck`
# (a run of the source's visible tests with the solutions: expected values, messages, points;
# no hidden test; see nncheck/reference.py).
#
#   scripts/generate_exercises.sh              # every assignment in solutions/
#   scripts/generate_exercises.sh ch03_losses  # only these
#
# Nothing is written to the gradebook (--no-db): releasing to students does not need it, and the
# repository stays clean. tests/test_exercises_fresh.py fails when exercises/ is stale.
set -euo pipefail
cd "$(dirname "$0")/.."
NBGRADER=${NBGRADER:-.venv/bin/nbgrader}
PYTHON=${PYTHON:-.venv/bin/python}
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1}

if [ $# -gt 0 ]; then
    assignments=("$@")
else
    assignments=()
    for dir in solutions/*/; do
        assignments+=("$(basename "$dir")")
    done
fi

for a in "${assignments[@]}"; do
    if [ ! -f "solutions/$a/$a.ipynb" ]; then
        echo "generate_exercises: no solutions/$a/$a.ipynb" >&2
        exit 1
    fi
    "$NBGRADER" generate_assignment "$a" --force --no-db \
        --CourseDirectory.root="$PWD" --log-level=WARN
    "$PYTHON" -m nncheck.reference "solutions/$a/$a.ipynb" --visible -o "exercises/$a/$a.checks.json"
    echo "exercises/$a/$a.ipynb exercises/$a/$a.checks.json"
done
