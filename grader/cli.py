"""Command line: `python -m grader NOTEBOOK`, `python -m grader autograde ASSIGNMENT`."""

import argparse
import json
import os
import sys

# jsonschema (imported by nbformat) imports rfc3987_syntax when it is installed, which builds a
# parser at import: ~3 s of CPU in every grading process. Nothing here validates IRIs: skip it.
sys.modules.setdefault("rfc3987_syntax", None)

USAGE = """\
python -m grader NOTEBOOK [--checks FILE] [--timeout S] [--json]
    check your own notebook with its visible tests (the same as python -m nncheck NOTEBOOK)
python -m grader autograde ASSIGNMENT [ASSIGNMENT ...] [--jobs 2] [--student ID [ID ...]]
                           [--shard K/N] [--root DIR]
    grade every submitted/<student>/ASSIGNMENT/ of the course into its gradebook
python -m grader register ASSIGNMENT [ASSIGNMENT ...] [--root DIR]
    put an assignment's graded cells and points in the gradebook (exercises/ is not touched)
"""


def _student(argv):
    """The student's self-check is nncheck's (python -m nncheck): visible tests, no solutions."""
    from nncheck.__main__ import main as check

    return check(argv)


def _shard(text):
    try:
        k, n = (int(x) for x in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected K/N such as 1/2, got {text!r}") from None
    if not 1 <= k <= n:
        raise argparse.ArgumentTypeError(f"expected 1 <= K <= N in K/N, got {text!r}")
    return k, n


def _autograde(argv):
    p = argparse.ArgumentParser(prog="python -m grader autograde", usage=USAGE)
    p.add_argument("assignment", nargs="+")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    p.add_argument(
        "--student", nargs="+", action="extend", metavar="ID", help="grade only these students"
    )
    p.add_argument(
        "--shard",
        type=_shard,
        metavar="K/N",
        help="grade only shard K of N (a fixed split by student id; run N graders, one per shard)",
    )
    p.add_argument("--root", default=".", help="course folder with nbgrader_config.py")
    p.add_argument("--timeout", type=int, help="seconds per cell")
    p.add_argument("--total-timeout", type=int, help="seconds per notebook")
    p.add_argument("--interrupt-grace", type=int, help="seconds after an interrupt")
    p.add_argument("--isolation", choices=["auto", "on", "off"])
    p.add_argument(
        "--wall-limit",
        type=int,
        default=900,
        help="seconds for one submission before its grading process is killed (default 900)",
    )
    p.add_argument("--json", action="store_true", help="print per-student facts as JSON")
    args = p.parse_args(argv)
    from grader.grade import GradingError, autograde

    extra = []
    if args.timeout:
        extra.append(f"--Execute.timeout={args.timeout}")
    if args.total_timeout:
        extra.append(f"--SafeExecute.total_timeout={args.total_timeout}")
    if args.interrupt_grace:
        extra.append(f"--SafeExecute.interrupt_grace={args.interrupt_grace}")
    if args.isolation:
        extra.append(f"--SafeExecute.isolation={args.isolation}")
    root = os.path.abspath(args.root)
    if not os.path.exists(os.path.join(root, "nbgrader_config.py")):
        print(f"error: no nbgrader_config.py in {root} (use --root)", file=sys.stderr)
        return 2
    from grader import sandbox

    ok, why = sandbox.isolation_status()
    print(f"isolation: {why}" if ok else f"isolation: NOT available, rlimits only: {why}")
    try:
        facts = autograde(
            root,
            args.assignment,
            jobs=args.jobs,
            students=args.student,
            shard=args.shard,
            extra_argv=extra,
            wall_limit=args.wall_limit,
            log=lambda m: print(m, flush=True),
        )
    except GradingError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(facts))
        return 0 if all(f["status"] == "ok" for f in facts) else 1
    print()
    for f in facts:
        score = f"{f['score']:g} / {f['max_score']:g}" if "score" in f else "-"
        status = f["status"].splitlines()[0]
        row = f"{f['assignment']:<20} {f['student']:<20} {score:>12} {f['seconds']:>6.1f} s"
        print(f"{row}  {status[:70]}")
        for note in f.get("notes", []):
            print(f"{'':<20} {'':<20} {'':>12} {'':>8}  note: {note}")
    print("\nLogs: autograded/.grader-logs/<assignment>/<student>.log")
    print("Next: nbgrader generate_feedback / nbgrader export (see grader/README.md)")
    return 0 if all(f["status"] == "ok" for f in facts) else 1


def _register(argv):
    p = argparse.ArgumentParser(prog="python -m grader register", usage=USAGE)
    p.add_argument("assignment", nargs="+")
    p.add_argument("--root", default=".", help="course folder with nbgrader_config.py")
    args = p.parse_args(argv)
    from grader.grade import GradingError, register

    try:
        for a in args.assignment:
            done = register(args.root, a)
            print(f"{a}: {'registered' if done else 'already in the gradebook'}")
    except GradingError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


def _worker(argv):
    p = argparse.ArgumentParser(prog="python -m grader _worker")
    p.add_argument("--root", required=True)
    args = p.parse_args(argv)
    from grader.grade import serve

    return serve(os.path.abspath(args.root))


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    # nbgrader runs the `alembic` command of this environment
    bindir = os.path.dirname(sys.executable)
    os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE)
        return 0 if argv else 2
    if argv[0] == "autograde":
        return _autograde(argv[1:])
    if argv[0] == "_worker":
        return _worker(argv[1:])
    if argv[0] == "register":
        return _register(argv[1:])
    if argv[0] == "grade":
        argv = argv[1:]
    return _student(argv)
