#!/usr/bin/env bash
# Set up the course environment in .venv (idempotent).
#   scripts/setup.sh        the course environment (requirements.txt: authoring, book build,
#                           grading; students and Binder get the lean lock in binder/)
#   scripts/setup.sh dev    plus the test and lint tools (requirements-dev.txt) and the Debian
#                           packages listed in scripts/apt-packages.txt
# Both also install the JavaScript the online book serves itself, so that it needs no CDN
# (MathJax 3, require.js, the ipywidgets HTML manager): the versions pinned in
# scripts/vendor/package-lock.json, from the npm registry into _vendor/ (gitignored).
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

# The book's JavaScript: npm ci into _vendor/npm only when the lock file changed, then copy the
# files the pages load into _vendor/site/_static/nnlib-vendor/ (served via html_extra_path).
vendor=_vendor/npm
site=_vendor/site/_static/nnlib-vendor
if ! cmp -s scripts/vendor/package-lock.json "$vendor/package-lock.json" \
  || [ ! -f "$site/html-manager/embed-amd.js" ]; then
  command -v npm >/dev/null || { echo "setup.sh: npm is needed (Node.js) to install the book's JavaScript" >&2; exit 1; }
  rm -rf "$vendor" _vendor/site
  mkdir -p "$vendor" "$site/html-manager"
  cp scripts/vendor/package.json scripts/vendor/package-lock.json "$vendor/"
  (cd "$vendor" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
  cp -r "$vendor/node_modules/mathjax/es5" "$site/mathjax"
  cp "$vendor/node_modules/requirejs/require.js" "$site/require.js"
  # embed-amd.js plus the font files it refers to (no source maps, no other bundles)
  find "$vendor/node_modules/@jupyter-widgets/html-manager/dist" -maxdepth 1 -type f \
    ! -name '*.map' ! -name 'embed.js*' ! -name 'libembed-amd.js' -exec cp {} "$site/html-manager/" \;
fi
