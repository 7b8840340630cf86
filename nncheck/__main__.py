"""The self-check: `python -m nncheck NOTEBOOK.ipynb` (in a cell: `%run -m nncheck NOTEBOOK.ipynb`).

Runs the notebook's cells in a fresh kernel, the test cells as the grader runs them, and
compares what they report with the visible checks shipped next to the notebook
(`<assignment>.checks.json`). Prints the points of each part whose visible checks pass.
"""

import argparse
import glob
import json
import os
import sys
import time

from nncheck.reference import is_test, nbgrader_meta, read_notebook, verdict
from nncheck.run import run_cells

UNISOLATED = (
    "This check ran your notebook on this computer like running all its cells yourself "
    "(no sandbox): run only notebooks you trust."
)
HIDDEN = (
    "Hidden tests are run by the instructor when grading; they can still cost points, "
    "so test your functions on other inputs as well."
)


def find_checks(notebook_path):
    folder = os.path.dirname(os.path.abspath(notebook_path))
    stem = os.path.splitext(os.path.basename(notebook_path))[0]
    same = os.path.join(folder, stem + ".checks.json")
    if os.path.isfile(same):
        return same
    found = sorted(glob.glob(os.path.join(folder, "*.checks.json")))
    if len(found) == 1:
        return found[0]
    raise SystemExit(
        f"nncheck: cannot find the checks of {os.path.basename(notebook_path)}: keep the "
        "file <assignment>.checks.json that came with the exercise in the same folder "
        "(or give it with --checks FILE)"
    )


def check_notebook(path, checks_path=None, timeout=60):
    """Run the notebook with its visible checks; a report dict."""
    checks_path = checks_path or find_checks(path)
    with open(checks_path, encoding="utf-8") as f:
        reference = json.load(f)
    nb = read_notebook(path)
    tests = reference["tests"]
    codes, where = [], {}
    for cell in nb["cells"]:
        if cell.get("cell_type") != "code":
            continue
        gid = nbgrader_meta(cell).get("grade_id")
        if is_test(cell) and gid in tests and gid not in where:
            where[gid] = len(codes)
            codes.append(tests[gid]["code"])
        else:
            codes.append(cell["source"])
    folder = os.path.dirname(os.path.abspath(path))
    results = run_cells(codes, folder, timeout=timeout)
    parts = []
    for gid, test in tests.items():
        if gid in where:
            failed = verdict(results[where[gid]], test)
        else:
            failed = ("MissingTest", "this test cell is not in your notebook")
        parts.append(
            {
                "part": gid,
                "score": 0 if failed else test["points"],
                "max_score": test["points"],
                "error": None if failed is None else f"{failed[0]}: {failed[1]}",
            }
        )
    return {
        "assignment": reference["assignment"],
        "parts": parts,
        "score": sum(p["score"] for p in parts),
        "max_score": sum(p["max_score"] for p in parts),
    }


def format_report(report, path, seconds):
    lines = [f"Checking {path} (assignment {report['assignment']}) with its visible tests", ""]
    width = max([len(p["part"]) for p in report["parts"]] + [4])
    for p in report["parts"]:
        status = "passed" if p["error"] is None else "FAILED"
        lines.append(f"  {p['part']:<{width}}  {p['score']:g} / {p['max_score']:g}  {status}")
        if p["error"]:
            lines.append(f"  {'':<{width}}    {p['error']}")
    lines += [
        "",
        f"Visible tests: {report['score']:g} / {report['max_score']:g}  ({seconds:.1f} s)",
        HIDDEN,
        UNISOLATED,
        f"Submit the notebook under the file name {report['assignment']}.ipynb.",
    ]
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m nncheck", description=__doc__.splitlines()[0])
    p.add_argument("notebook")
    p.add_argument("--checks", help="the assignment's .checks.json (default: next to it)")
    p.add_argument("--timeout", type=int, default=60, help="seconds per cell (default 60)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    args = p.parse_args(sys.argv[1:] if argv is None else argv)
    start = time.monotonic()
    try:
        report = check_notebook(args.notebook, args.checks, args.timeout)
    except (OSError, ValueError) as error:
        print(f"nncheck: cannot check {args.notebook}: {error}", file=sys.stderr)
        return 2
    seconds = time.monotonic() - start
    if args.json:
        print(json.dumps(report, indent=1))
    else:
        print(format_report(report, args.notebook, seconds))
    return 0


if __name__ == "__main__":
    status = main()
    if status:
        sys.exit(status)
