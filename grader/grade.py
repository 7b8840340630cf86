"""Grading with nbgrader's own applications, run in this process.

`grade_notebook` grades one student's notebook anywhere on disk in a throwaway course
(the student command); `autograde` grades every submission of an assignment in a real course,
each in its own worker process (`python -m grader _worker ...`), some in parallel.
Both run the same nbgrader steps with the same settings (grader.config): generate_assignment
(source cells and points into a gradebook), then autograde (restore cells, execute, score).
"""

import concurrent.futures
import contextlib
import io
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import nbformat
from traitlets.config import Config

from grader import restore, sandbox
from grader.config import configure

PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STUDENT = "student"


class GradingError(Exception):
    pass


@contextlib.contextmanager
def _cwd(path):
    old = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


def run_app(app_class, argv, config=None, cwd=None, quiet=True):
    """Run an nbgrader application in this process; raise GradingError if it fails."""
    log = io.StringIO()
    with _cwd(cwd or os.getcwd()):
        app = app_class(config=config) if config is not None else app_class()
        app.log_level = "ERROR" if quiet else "INFO"
        try:
            with contextlib.redirect_stderr(log) if quiet else contextlib.nullcontext():
                app.initialize(argv)
                app.start()
        except SystemExit as error:
            if error.code not in (0, None):
                raise GradingError(f"{app_class.__name__} failed:\n{log.getvalue()}") from None
        except Exception as error:
            raise GradingError(f"{app_class.__name__} failed: {error}\n{log.getvalue()}") from None
        finally:
            app.clear_instance()
    return log.getvalue()


# ------------------------------------------------------------------ which assignment?


def _find_solutions(notebook_path):
    """The course's solutions/: next to this package (a clone), else above the notebook or cwd."""
    candidates = [os.path.join(PACKAGE_ROOT, "solutions")]
    for start in (os.path.dirname(os.path.abspath(notebook_path)), os.getcwd()):
        folder = start
        while True:
            candidates.append(os.path.join(folder, "solutions"))
            parent = os.path.dirname(folder)
            if parent == folder:
                break
            folder = parent
    return next((c for c in candidates if os.path.isdir(c)), candidates[0])


def find_source(notebook, solutions_dir):
    """(assignment, source notebook path) for a student's notebook: by file name, else grade ids."""
    name = os.path.splitext(os.path.basename(notebook.get("_path", "")))[0]
    candidates = sorted(
        os.path.join(solutions_dir, d, d + ".ipynb")
        for d in os.listdir(solutions_dir)
        if os.path.isfile(os.path.join(solutions_dir, d, d + ".ipynb"))
    )
    for path in candidates:
        if os.path.basename(os.path.dirname(path)) == name:
            return name, path
    ids = set(restore.grade_ids(notebook))
    best, best_overlap = None, 0
    for path in candidates:
        overlap = len(ids & set(restore.grade_ids(restore.read(path))))
        if overlap > best_overlap:
            best, best_overlap = path, overlap
    if best is None:
        raise GradingError(
            f"cannot tell which assignment {name}.ipynb is: no solutions/<a>/<a>.ipynb has "
            "its name or any of its cells' grade ids"
        )
    return os.path.basename(os.path.dirname(best)), best


# ------------------------------------------------------------------ reading results


def results(db_url, assignment, student):
    """Per notebook: the list of (grade_id, score, max_score) of autograded parts, in order."""
    from nbgrader.api import Gradebook

    out = {}
    with Gradebook(db_url) as gb:
        submission = gb.find_submission(assignment, student)
        for nb in submission.notebooks:
            grades = [
                (g.name, g.score, g.max_score, g.auto_score is not None)
                for g in nb.grades
                if g.cell.cell_type == "code"
            ]
            out[nb.name] = grades
    return out


def failures(autograded_path):
    """{grade_id: "Error: message"} for the test cells of an autograded notebook that failed."""
    nb = nbformat.read(autograded_path, as_version=4)
    out = {}
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code" or not meta.get("grade") or meta.get("solution"):
            continue
        errors = [o for o in cell.get("outputs", []) if o.output_type == "error"]
        if errors:
            timeouts = [e for e in errors if e.ename == "CellTimeoutError"]
            e = (timeouts or errors)[0]
            message = (e.get("evalue") or "").strip() or "(no message)"
            out[meta["grade_id"]] = f"{e.ename}: {message}"
    return out


# ------------------------------------------------------------------ the student command


def grade_notebook(path, solutions_dir=None, isolation="auto", timeout=None, total_timeout=None):
    """Grade one notebook; return a dict with the assignment, parts, total and notes."""
    from nbgrader.apps import AutogradeApp, GenerateAssignmentApp

    solutions_dir = solutions_dir or _find_solutions(path)
    if not os.path.isdir(solutions_dir):
        raise GradingError(f"no solutions folder at {solutions_dir} (give one with --solutions)")
    try:
        submitted = restore.read(path)
    except Exception as error:
        raise GradingError(f"{path} is not a readable notebook: {error}") from None
    submitted["_path"] = path
    assignment, source_path = find_source(submitted, solutions_dir)
    del submitted["_path"]
    notes = []
    ok, why = sandbox.isolation_status()
    if isolation == "off":
        notes.append("isolation: off (rlimits only)")
    elif not ok:
        notes.append(f"isolation: not available, running unisolated (rlimits only): {why}")
    else:
        notes.append(f"isolation: {why}")

    with tempfile.TemporaryDirectory(prefix="grader-") as tmp:
        course = os.path.join(tmp, "course")
        shutil.copytree(
            os.path.dirname(source_path),
            os.path.join(course, "source", assignment),
            ignore=shutil.ignore_patterns(".ipynb_checkpoints"),
        )
        db_url = "sqlite:///" + os.path.join(tmp, "gradebook.db")
        c = configure(Config())
        c.CourseDirectory.root = course
        c.CourseDirectory.source_directory = "source"
        c.CourseDirectory.release_directory = "release"
        c.CourseDirectory.db_url = db_url
        c.CourseDirectory.course_id = "course"
        c.SafeExecute.isolation = isolation
        if timeout:
            c.Execute.timeout = timeout
        if total_timeout:
            c.SafeExecute.total_timeout = total_timeout
        run_app(GenerateAssignmentApp, [assignment], config=c, cwd=tmp)
        dest = os.path.join(course, "submitted", STUDENT, assignment)
        os.makedirs(dest)
        nbformat.write(
            restore.restore(submitted, restore.read(source_path)),
            os.path.join(dest, assignment + ".ipynb"),
        )
        run_app(AutogradeApp, [assignment, "--student", STUDENT], config=c, cwd=tmp)
        graded = results(db_url, assignment, STUDENT)[assignment]
        failed = failures(
            os.path.join(course, "autograded", STUDENT, assignment, assignment + ".ipynb")
        )
    parts = [
        {"part": gid, "score": score, "max_score": max_score, "error": failed.get(gid)}
        for gid, score, max_score, auto in graded
        if auto
    ]
    return {
        "assignment": assignment,
        "parts": parts,
        "score": sum(p["score"] for p in parts),
        "max_score": sum(p["max_score"] for p in parts),
        "notes": notes,
    }


def format_report(report, path):
    a = report["assignment"]
    lines = [f"Grading {path} as assignment {a}", ""]
    width = max([len(p["part"]) for p in report["parts"]] + [4])
    for p in report["parts"]:
        status = "passed" if p["error"] is None and p["score"] == p["max_score"] else "FAILED"
        lines.append(f"  {p['part']:<{width}}  {p['score']:g} / {p['max_score']:g}  {status}")
        if p["error"]:
            lines.append(f"  {'':<{width}}    {p['error']}")
    lines += ["", f"Total: {report['score']:g} / {report['max_score']:g}", ""]
    lines += report["notes"]
    lines += [
        "",
        "Binder sessions are temporary: download your notebook now (File > Download) and",
        f"submit it under the file name {a}.ipynb, the name the collection expects.",
    ]
    return "\n".join(lines)


# ------------------------------------------------------------------ the instructor's batch


def _ensure_assignment(root, assignment):
    from nbgrader.api import Gradebook, MissingEntry
    from nbgrader.apps import GenerateAssignmentApp

    from grader.config import configure as _  # noqa: F401 - settings come from the course config

    db_url = _course_db_url(root)
    with Gradebook(db_url) as gb:
        try:
            gb.find_assignment(assignment)
            return
        except MissingEntry:
            pass
    with tempfile.TemporaryDirectory() as tmp:
        run_app(
            GenerateAssignmentApp,
            [assignment, f"--CourseDirectory.release_directory={tmp}"],
            cwd=root,
        )


def _reference(root, assignment):
    """Run the source notebooks once (every check's expected value), cached for the workers."""
    from nncheck.reference import ReferenceError, load_or_build

    folder = os.path.join(root, _source_directory(root), assignment)
    for name in sorted(os.listdir(folder)):
        if name.endswith(".ipynb"):
            try:
                load_or_build(os.path.join(folder, name))
            except ReferenceError as error:
                raise GradingError(f"the reference run of the solutions failed: {error}") from None


def _course_db_url(root):
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import PyFileConfigLoader

    c = PyFileConfigLoader("nbgrader_config.py", path=root).load_config()
    return CourseDirectory(config=c).db_url


def grade_submission(root, assignment, student, extra_argv=()):
    """The worker: grade one student's submission of an assignment into the course gradebook."""
    from nbgrader.apps import AutogradeApp

    src = os.path.join(root, "submitted", student, assignment)
    source_dir = os.path.join(root, _source_directory(root), assignment)
    with tempfile.TemporaryDirectory(prefix="grader-staging-") as staging:
        dest = os.path.join(staging, student, assignment)
        shutil.copytree(src, dest, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
        sources = sorted(f for f in os.listdir(source_dir) if f.endswith(".ipynb"))
        submitted = sorted(f for f in os.listdir(dest) if f.endswith(".ipynb"))
        if len(sources) == 1 and sources[0] not in submitted and len(submitted) == 1:
            os.rename(os.path.join(dest, submitted[0]), os.path.join(dest, sources[0]))
        for name in sources:
            path = os.path.join(dest, name)
            if not os.path.exists(path):
                continue
            try:
                nb = restore.read(path)
            except Exception:  # noqa: BLE001 - an unreadable file grades as an empty notebook
                nb = nbformat.v4.new_notebook()
            source = restore.read(os.path.join(source_dir, name))
            nbformat.write(restore.restore(nb, source), path)
        argv = [
            assignment,
            "--student",
            student,
            "--force",
            f"--CourseDirectory.submitted_directory={staging}",
            *extra_argv,
        ]
        return run_app(AutogradeApp, argv, cwd=root)


def _source_directory(root):
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import PyFileConfigLoader

    c = PyFileConfigLoader("nbgrader_config.py", path=root).load_config()
    return CourseDirectory(config=c).source_directory


def worker_main(root, assignment, student, extra_argv):
    """Entry point of `python -m grader _worker`: grade, then print a JSON line of facts."""
    start = time.monotonic()
    status = "ok"
    try:
        grade_submission(root, assignment, student, extra_argv)
    except GradingError as error:
        status = f"failed: {str(error)[-2000:]}"
    facts = {
        "student": student,
        "status": status,
        "seconds": round(time.monotonic() - start, 2),
        "worker_max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
    }
    print(json.dumps(facts), flush=True)
    return 0 if status == "ok" else 1


WORKER_ADDRESS_SPACE = 6 * 1024**3  # bytes, for the grading worker itself (not its kernel)


def _limit_worker():
    resource.setrlimit(resource.RLIMIT_AS, (WORKER_ADDRESS_SPACE, WORKER_ADDRESS_SPACE))


def autograde(root, assignments, jobs=2, students=None, extra_argv=(), wall_limit=900, log=print):
    """Grade every submitted/<student>/<assignment>/ in its own worker; return per-student facts.

    `assignments` is one name or a list; all their submissions share one pool of `jobs` workers.
    """
    root = os.path.abspath(root)
    if isinstance(assignments, str):
        assignments = [assignments]
    submitted = os.path.join(root, "submitted")
    everyone = sorted(os.listdir(submitted)) if os.path.isdir(submitted) else []
    todo = [
        (a, s)
        for a in assignments
        for s in everyone
        if os.path.isdir(os.path.join(submitted, s, a)) and (not students or s in students)
    ]
    if not todo:
        raise GradingError(f"no submissions in {submitted}/<student>/{'|'.join(assignments)}/")
    for a in sorted({a for a, _ in todo}):
        _ensure_assignment(root, a)
        _reference(root, a)

    def one(job):
        assignment, student = job
        logs = os.path.join(root, "autograded", ".grader-logs", assignment)  # ignored by git
        os.makedirs(logs, exist_ok=True)
        cmd = [sys.executable, "-m", "grader", "_worker", assignment, student, "--root", root]
        env = dict(os.environ, OPENBLAS_NUM_THREADS="1", PYTHONUNBUFFERED="1")
        if sandbox.isolation_status()[0]:
            env["GRADER_ISOLATION_CHECKED"] = "1"
        with open(os.path.join(logs, student + ".log"), "w") as err:
            proc = subprocess.Popen(
                [*cmd, "--", *extra_argv],
                stdout=subprocess.PIPE,
                stderr=err,
                text=True,
                env=env,
                start_new_session=True,
                preexec_fn=_limit_worker,  # noqa: PLW1509
            )
            try:
                out, _ = proc.communicate(timeout=wall_limit)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.communicate()
                out = json.dumps({"status": f"failed: over {wall_limit} s, killed"})
        try:
            facts = json.loads(out.strip().splitlines()[-1])
        except (ValueError, IndexError):
            facts = {"status": f"failed: worker exit status {proc.returncode}"}
        facts.update(student=student, assignment=assignment)
        log(f"{assignment} {student}: {facts['status'][:200]} ({facts.get('seconds', '?')} s)")
        return facts

    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        facts = list(pool.map(one, todo))
    scores = _scores(root, todo)
    for f in facts:
        f.update(scores.get((f["assignment"], f["student"]), {}))
    return facts


def _scores(root, todo):
    from nbgrader.api import Gradebook, MissingEntry

    out = {}
    with Gradebook(_course_db_url(root)) as gb:
        for a, s in todo:
            try:
                sub = gb.find_submission(a, s)
            except MissingEntry:
                continue
            parts = {
                g.name: g.score
                for nb in sub.notebooks
                for g in nb.grades
                if g.auto_score is not None
            }
            out[(a, s)] = {"score": sub.score, "max_score": sub.max_score, "parts": parts}
    return out
