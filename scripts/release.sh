#!/usr/bin/env bash
# Build the student release: the tree students (and Binder) get, with nothing to peek at.
#
#   scripts/release.sh DIR
#
# DIR is created, or emptied first (everything but its .git folder) when it is empty, holds an
# earlier release, or is a git checkout (for example of the public release repository:
# docs/instructors.md, "Publishing the student release"). It receives, from the files git
# tracks in this repository (as they are in the working tree):
#   book/*.ipynb              the chapters
#   nnlib/, nncheck/          the course package (nncheck only if this repository has it)
#   exercises/                the student versions and their visible checks
#   binder/requirements.txt   the student environment, locked (+ runtime.txt)
#   pyproject.toml            a minimal one for the course package (name, version, dependencies
#                             from this repository's pyproject.toml; packages nnlib, nncheck)
#   README.md                 from scripts/student/README.md (how to start, how to self-check)
#   .gitignore                from scripts/student/gitignore
# and nothing else: no solutions/, hidden tests, grader/, nbgrader config, gradebook,
# instructor docs, tests, benchmarks or scripts. It ends by refusing a tree in which a solution
# or hidden-test marker is left (tests/test_release.py checks much more).
set -euo pipefail
if [ $# -ne 1 ]; then
  echo "usage: scripts/release.sh DIR" >&2
  exit 2
fi
repo=$(cd "$(dirname "$0")/.." && pwd -P)
python=${PYTHON:-python3}
out=$("$python" -c 'import os, sys; print(os.path.realpath(sys.argv[1]))' "$1")

fail() {
  echo "release.sh: $*" >&2
  exit 1
}
case "$out/" in
  "$repo/"*) fail "$out is inside this repository: give a folder outside it" ;;
esac
case "$repo/" in
  "$out/"*) fail "$out contains this repository: give another folder" ;;
esac
if [ -e "$out/solutions" ] || [ -e "$out/nbgrader_config.py" ] || [ -e "$out/grader" ]; then
  fail "$out looks like the instructor's repository (solutions/, grader/ or nbgrader_config.py): refusing to empty it"
fi
if [ -d "$out" ] && [ -n "$(ls -A "$out")" ] && [ ! -e "$out/.git" ] \
  && ! { [ -f "$out/binder/requirements.txt" ] && [ -d "$out/nnlib" ]; }; then
  fail "$out is not empty, not an earlier release and not a git checkout: refusing to empty it"
fi
mkdir -p "$out"
find "$out" -mindepth 1 -maxdepth 1 ! -name .git -exec rm -rf {} +

cd "$repo"
# The files git tracks (so no stray checkpoints, caches, gradebooks or scratch files), copied
# from the working tree.
git ls-files -z -- 'book/*.ipynb' nnlib nncheck exercises binder/requirements.txt \
  binder/runtime.txt \
  | while IFS= read -r -d '' f; do
    case "$f" in
      book/*/*) continue ;;                  # only the chapters, not the site's own files
      *__pycache__* | *.ipynb_checkpoints*) continue ;;
      *.db | *gradebook*) continue ;;
    esac
    [ -f "$f" ] || continue                  # deleted in the working tree
    mkdir -p "$out/$(dirname "$f")"
    cp "$f" "$out/$f"
  done

"$python" - "$repo" "$out" <<'PY'
import json
import re
import sys
import tomllib
from pathlib import Path

repo, out = Path(sys.argv[1]), Path(sys.argv[2])
project = tomllib.loads((repo / "pyproject.toml").read_text())["project"]
packages = [p for p in ("nnlib", "nncheck") if (out / p / "__init__.py").exists()]


def toml_list(items):
    return "[" + ", ".join(f'"{i}"' for i in items) + "]"


(out / "pyproject.toml").write_text(
    f"""# The course package for students: nnlib and nncheck (made by the course's scripts/release.sh).
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "{project["name"]}"
version = "{project["version"]}"
description = {json.dumps(project["description"])}
requires-python = "{project["requires-python"]}"
dependencies = {toml_list(project["dependencies"])}

[tool.setuptools]
packages = {toml_list(packages)}
"""
)

# The repository the release is published to: _config.yml's repository url and branch (the
# one setting the book's launch buttons use too).
config = (repo / "_config.yml").read_text()
block = re.search(r"^repository:\n((?:[ \t]+.*\n)+)", config, re.M).group(1)
url = re.search(r"^\s+url:\s*(\S+)", block, re.M).group(1).rstrip("/")
branch_match = re.search(r"^\s+branch:\s*(\S+)", block, re.M)
branch = branch_match.group(1) if branch_match else "main"
owner_name = url.split("github.com/", 1)[1]
readme = (repo / "scripts/student/README.md").read_text()
readme = readme.replace("{{REPOSITORY_URL}}", url).replace("{{BRANCH}}", branch)
readme = readme.replace("{{OWNER_NAME}}", owner_name)
(out / "README.md").write_text(readme)
(out / ".gitignore").write_text((repo / "scripts/student/gitignore").read_text())
PY

# A marker line as nbgrader writes it, in a file or in a notebook's JSON (nncheck's own code
# names the markers in a regular expression: that is not a marker line).
if grep -rIlE --exclude-dir=.git '^[[:space:]"]*#+[[:space:]]*(BEGIN|END) (SOLUTION|HIDDEN TESTS)' \
  "$out"; then
  find "$out" -mindepth 1 -maxdepth 1 ! -name .git -exec rm -rf {} +
  fail "the files above hold a solution or hidden-test marker: the release was removed again"
fi
echo "student release in $out ($(find "$out" -type f ! -path '*/.git/*' | wc -l) files)"
