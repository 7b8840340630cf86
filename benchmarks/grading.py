"""The instructor's batch against plain serial `nbgrader autograde`, on the same submissions.

    .venv/bin/python benchmarks/grading.py [--assignment ch03_losses] [-n 16] [--jobs 2]

Builds a throwaway course (the project's nbgrader_config.py and solutions/<a>), fills
submitted/ with n submissions (the source notebook and the untouched student version,
alternating), then grades them four times, interleaved: plain `nbgrader autograde <a>`, the
batch `python -m grader autograde <a> --jobs J`, the batch again, plain again; each run starts
from an empty gradebook with the assignment registered (not timed) and no autograded/.
Prints the wall time of each run, seconds per submission, the ratio batch / plain (target:
<= 0.5), and where the time goes: the start-up of each kind of process, and the batch's
per-submission seconds in a worker. Both sides grade with the course's settings (sandboxed
kernels), so the ratio measures the batch, not the sandbox; the checks' reference run is
computed once before any timing (both sides read it from the same cache).
"""

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PYTHON = sys.executable
BIN = os.path.dirname(PYTHON)


def env():
    e = dict(os.environ, OPENBLAS_NUM_THREADS="1", PYDEVD_DISABLE_FILE_VALIDATION="1")
    e.pop("NBGRADER_DB_URL", None)
    e["PATH"] = BIN + os.pathsep + e.get("PATH", "")
    return e


def cpu_of_children():
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def run(cmd, cwd):
    """(wall seconds, CPU seconds of the command and everything it started, result)."""
    start, cpu = time.perf_counter(), cpu_of_children()
    done = subprocess.run(cmd, cwd=cwd, env=env(), capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return seconds, cpu_of_children() - cpu, done


def make_course(tmp, assignment, n):
    root = os.path.join(tmp, "course")
    os.makedirs(os.path.join(root, "solutions"))
    shutil.copy(os.path.join(REPO, "nbgrader_config.py"), root)
    shutil.copytree(
        os.path.join(REPO, "solutions", assignment), os.path.join(root, "solutions", assignment)
    )
    notebooks = [
        os.path.join(REPO, "solutions", assignment, assignment + ".ipynb"),
        os.path.join(REPO, "exercises", assignment, assignment + ".ipynb"),
    ]
    for k in range(n):
        dest = os.path.join(root, "submitted", f"student{k:03d}", assignment)
        os.makedirs(dest)
        shutil.copy(notebooks[k % 2], os.path.join(dest, assignment + ".ipynb"))
    return root


def reset(root, assignment):
    """An empty gradebook with the assignment registered, and no autograded/ (not timed)."""
    shutil.rmtree(os.path.join(root, "autograded"), ignore_errors=True)
    for name in ("gradebook.db",):
        if os.path.exists(os.path.join(root, name)):
            os.remove(os.path.join(root, name))
    run([PYTHON, "-m", "grader", "register", assignment], root)


def startup(code, repeat=3):
    """Median seconds for a fresh Python to run `code` (its imports)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run([PYTHON, "-c", code], env=env(), check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--assignment", default="ch03_losses")
    p.add_argument("-n", type=int, default=16, help="submissions (default 16)")
    p.add_argument("--jobs", type=int, default=2)
    args = p.parse_args()
    a, n = args.assignment, args.n
    with tempfile.TemporaryDirectory(prefix="grading-bench-") as tmp:
        root = make_course(tmp, a, n)
        # the checks' expected values (a run of the source notebook, cached by content hash):
        # computed once here, before any timing, for both sides
        os.environ["NNCHECK_CACHE_DIR"] = os.path.join(tmp, "reference-cache")
        from nncheck.reference import load_or_build

        load_or_build(os.path.join(root, "solutions", a, a + ".ipynb"))
        plain_cmd = [os.path.join(BIN, "nbgrader"), "autograde", a]
        batch_cmd = [PYTHON, "-m", "grader", "autograde", a, "--jobs", str(args.jobs), "--json"]
        plain, batch, worker_seconds, isolation = [], [], [], ""
        cpu = {"plain": 0.0, "batch": 0.0}
        for kind in ("plain", "batch", "batch", "plain"):
            reset(root, a)
            if kind == "plain":
                seconds, used, _ = run(plain_cmd, root)
                plain.append(seconds)
            else:
                seconds, used, done = run(batch_cmd, root)
                batch.append(seconds)
                isolation = done.stdout.splitlines()[0]
                facts = json.loads(done.stdout.strip().splitlines()[-1])
                assert len(facts) == n and all(f["status"] == "ok" for f in facts), facts
                worker_seconds += [f["worker_seconds"] for f in facts]
            cpu[kind] += used
            print(
                f"  {kind:<5} {seconds:6.1f} s wall, {used:6.1f} s CPU  "
                f"({seconds / n:.2f} s per submission)",
                flush=True,
            )
        imports = {
            "plain nbgrader (once per command)": "from nbgrader.apps.nbgraderapp import main",
            "grading worker (once per worker)": (
                "import sys; sys.modules['rfc3987_syntax'] = None; "
                "import grader.grade; from nbgrader.apps import AutogradeApp"
            ),
            "grading kernel (once per submission)": "import grader.kernel, numpy",
        }
        starts = {what: startup(code) for what, code in imports.items()}
    p_total, b_total = sum(plain), sum(batch)
    cpus = os.cpu_count()
    load = os.getloadavg()[0]
    print()
    print(f"{a}, {n} submissions, {cpus} cores (load average {load:.1f}), {isolation}")
    print(f"plain `nbgrader autograde` (serial):   {p_total / len(plain) / n:.2f} s per submission")
    print(
        f"`python -m grader autograde --jobs {args.jobs}`: "
        f"{b_total / len(batch) / n:.2f} s per submission"
    )
    print(f"ratio batch / plain: {b_total / p_total:.2f}  (target <= 0.5)")
    print("where the time goes:")
    for kind in ("plain", "batch"):
        print(
            f"  CPU (all processes, kernels included), {kind}: "
            f"{cpu[kind] / 2 / n:.2f} s per submission"
        )
    for what, seconds in starts.items():
        print(f"  start-up and imports, {what}: {seconds:.2f} s")
    print(
        f"  one submission in a warm worker (kernel start and stop, cells, gradebook): "
        f"median {statistics.median(worker_seconds):.2f} s, max {max(worker_seconds):.2f} s"
    )


if __name__ == "__main__":
    main()
