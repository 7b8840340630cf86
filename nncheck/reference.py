"""The reference of an assignment: the expected value, message and tolerances of every check.

`build(source)` runs the instructor's source notebook (with its solutions; trusted code) in a
fresh kernel with NNCHECK_REFERENCE=1, so that every `expect(actual, expected, message, ...)`
publishes its check; the solution must pass all of them. The result, per test cell (grade_id):
its points, the code the grading kernel runs (`nncheck.rewrite.for_grading`) and its checks.

* `visible=True` runs the test cells without their hidden-tests blocks (as students get them):
  `scripts/generate_exercises.sh` writes that reference next to each student notebook,
  `exercises/<a>/<a>.checks.json`, for the self-check (`python -m nncheck`). It holds no hidden
  test.
* `visible=False` (the instructor's grading) runs them whole. `load_or_build` caches it on disk,
  keyed by a hash of the source folder and of the nncheck and nnlib code.

`verdict(result, test)` decides one test cell from what the student's kernel reported.
"""

import hashlib
import importlib.util
import json
import os
import shutil
import tempfile

from nncheck import compare
from nncheck.rewrite import for_grading, visible_part
from nncheck.run import run_cells

FORMAT = 1


class ReferenceError(Exception):
    pass


def read_notebook(path):
    with open(path, encoding="utf-8") as f:
        nb = json.load(f)
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise ValueError("not a Jupyter notebook")
    for cell in nb["cells"]:
        if isinstance(cell.get("source"), list):
            cell["source"] = "".join(cell["source"])
    return nb


def nbgrader_meta(cell):
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return meta if isinstance(meta, dict) else {}


def is_test(cell):
    meta = nbgrader_meta(cell)
    return cell.get("cell_type") == "code" and meta.get("grade") and not meta.get("solution")


def build(source_path, visible=False, timeout=600):
    """Run the source notebook; its reference (see the module docstring)."""
    nb = read_notebook(source_path)
    codes, tests = [], []
    for cell in nb["cells"]:
        if cell.get("cell_type") != "code":
            continue
        code = cell["source"]
        if is_test(cell):
            meta = nbgrader_meta(cell)
            code = visible_part(code) if visible else code
            tests.append((len(codes), meta["grade_id"], meta.get("points", 0), code))
        codes.append(code)
    folder = os.path.dirname(os.path.abspath(source_path))
    with tempfile.TemporaryDirectory(prefix="nncheck-reference-") as tmp:
        work = os.path.join(tmp, "work")
        shutil.copytree(folder, work, ignore=shutil.ignore_patterns("*.ipynb", ".*"))
        results = run_cells(codes, work, env={"NNCHECK_REFERENCE": "1"}, timeout=timeout)
    for i, result in enumerate(results):
        if result.errors or result.stopped:
            why = result.stopped or "{}: {}".format(*result.errors[0])
            raise ReferenceError(f"{source_path}: code cell {i + 1} of the solution fails: {why}")
    out = {}
    for index, gid, points, code in tests:
        records = results[index].records
        checks = []
        for record in records:
            if not isinstance(record, dict) or "check" not in record:
                raise ReferenceError(f"{source_path}: {gid} published a record without a check")
            checks.append(record["check"])
        out[gid] = {"points": points, "code": for_grading(code), "checks": checks}
    name = os.path.splitext(os.path.basename(source_path))[0]
    return {
        "format": FORMAT,
        "assignment": name,
        "visible_only": visible,
        "fingerprint": cache_key(source_path, visible),
        "tests": out,
    }


def _files(root, keep):
    out = []
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "__pycache__")
        out += [os.path.join(folder, n) for n in sorted(names) if keep(n)]
    return [(os.path.relpath(p, root), p) for p in out]


def cache_key(source_path, visible):
    """A hash of what the reference depends on: the source folder, nncheck's and nnlib's code."""
    h = hashlib.sha256(f"nncheck-reference {FORMAT} visible={visible}\n".encode())
    folder = os.path.dirname(os.path.abspath(source_path))
    files = _files(folder, lambda n: not n.startswith("."))
    for package in ("nncheck", "nnlib"):
        spec = importlib.util.find_spec(package)
        for root in (spec.submodule_search_locations or []) if spec else []:
            files += [
                (f"{package}/{rel}", p) for rel, p in _files(root, lambda n: n.endswith(".py"))
            ]
    for rel, path in files:
        h.update(rel.encode() + b"\0")
        with open(path, "rb") as f:
            h.update(hashlib.sha256(f.read()).digest())
    return h.hexdigest()


def cache_dir():
    base = os.environ.get("NNCHECK_CACHE_DIR")
    if base:
        return base
    xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(xdg, "nn-course", "references")


def load_or_build(source_path, visible=False, directory=None):
    """The reference of this source notebook, from the cache when its hash is there."""
    import fcntl

    directory = directory or cache_dir()
    os.makedirs(directory, mode=0o700, exist_ok=True)
    path = os.path.join(directory, cache_key(source_path, visible) + ".json")
    with open(path + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # parallel graders wait for one reference run
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                return json.load(f)
        reference = build(source_path, visible=visible)
        fd, tmp = tempfile.mkstemp(dir=directory, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(reference, f)
        os.replace(tmp, path)
    return reference


def verdict(result, test):
    """None if the test cell passed, else (error name, message in words) for the student.

    `result` is what the student's kernel reported for the rewritten cell (nncheck.run.Result),
    `test` the reference's entry for that cell. A cell passes iff it ran to its end without an
    error and its records match the reference's checks in number and value.
    """
    if result.stopped:
        return "CellNotFinished", result.stopped
    if result.errors:
        return result.errors[0]
    checks, records = test["checks"], result.records
    for i, check in enumerate(checks):
        message = check["message"] or f"check {i + 1} of this test failed"
        if i >= len(records):
            return "AssertionError", f"{message} (the test stopped before this check)"
        record = records[i]
        actual = record.get("actual") if isinstance(record, dict) else None
        why = compare(actual, check["expected"], check["rtol"], check["atol"])
        if why is not None:
            return "AssertionError", f"{message} ({why})"
    if len(records) != len(checks):
        return "AssertionError", "the test reported more checks than it has"
    return None


def main(argv=None):
    """`python -m nncheck.reference SOURCE.ipynb --visible -o FILE`: write a reference file."""
    import argparse

    p = argparse.ArgumentParser(prog="python -m nncheck.reference")
    p.add_argument("source")
    p.add_argument("--visible", action="store_true", help="without the hidden tests")
    p.add_argument("-o", "--output", required=True)
    args = p.parse_args(argv)
    reference = build(args.source, visible=args.visible)
    with open(args.output, "w", encoding="utf-8") as f:
        json.dump(reference, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
