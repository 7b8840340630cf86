"""The student release (scripts/release.sh DIR): what students and Binder get.

It is built once per test session. The checks: only the student files are in it; no file holds
a solution or hidden-test marker, a line or message of a hidden test (taken from solutions/),
the instructor's tools or the gradebook; the lock installs nothing only instructors need; and a
solved exercise (the answer cells of solutions/ put into the student notebook) scores full marks
with the documented self-check, run from the release folder in a fresh venv made from the
release's own binder/requirements.txt (skipped while this repository has no nncheck/).
"""

import ast
import json
import os
import re
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENTS = sorted(p.parent.name for p in ROOT.glob("solutions/*/*.ipynb"))
CHAPTERS = sorted(p.name for p in ROOT.glob("book/[0-9]*.ipynb"))
HAS_NNCHECK = (ROOT / "nncheck" / "__init__.py").exists()
NO_NNCHECK = "this repository has no nncheck/ yet (the self-check package comes with `verdicts`)"

TOP_LEVEL = {"book", "nnlib", "nncheck", "exercises", "binder", "README.md", "pyproject.toml"}
TOP_LEVEL |= {".gitignore"}
# nbgrader's marker lines (as comments: nncheck's code names them in a regular expression)
MARKER = re.compile(r"^[ \t\"]*#+[ \t]*(BEGIN|END) (SOLUTION|HIDDEN TESTS)", re.M)
# The instructor's tools, named anywhere in the release (a pointer to something students
# do not have is a leak or a dead end).
INSTRUCTOR_WORDS = ["formgrader", "gradebook", "nbgrader_config", "generate_assignment"]
INSTRUCTOR_COMMANDS = ["python -m grader", "nn-grade", "grader/"]
INSTRUCTOR_PACKAGES = {"nbgrader", "jupyter-book", "sphinx", "pytest", "nbval", "myst-nb"}
FORBIDDEN_NAMES = {"solutions", "grader", "tests", "docs", "scripts", "benchmarks", "source"}
FORBIDDEN_NAMES |= {"nbgrader_config.py", "gradebook.db", "autograded", "submitted", "feedback"}


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    out = tmp_path_factory.mktemp("release") / "course"
    done = subprocess.run(
        ["bash", str(ROOT / "scripts" / "release.sh"), str(out)],
        env={**os.environ, "PYTHON": sys.executable},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, f"scripts/release.sh failed:\n{done.stdout}\n{done.stderr}"
    return out


def release_files(release):
    return sorted(p for p in release.rglob("*") if p.is_file() and ".git" not in p.parts)


def strings(value):
    """Every string (keys too) in a JSON document."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from strings(v)


def file_text(path):
    """A file's text, plus the strings of a JSON file (notebooks) decoded from their escapes."""
    text = path.read_bytes().decode("utf-8", errors="replace")
    if path.suffix in (".ipynb", ".json"):
        try:
            text += "\n" + "\n".join(strings(json.loads(text)))
        except ValueError:
            pass
    return text


def squeeze(text):
    return re.sub(r"\s+", "", text)


def cells(notebook):
    return json.loads(notebook.read_text())["cells"]


def split_hidden(source):
    """(the visible part, the hidden blocks) of a test cell's source."""
    hidden = re.findall(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", source, re.S)
    visible = re.sub(r"### BEGIN HIDDEN TESTS\n.*?### END HIDDEN TESTS", "", source, flags=re.S)
    return visible, hidden


def string_literals(code):
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return re.findall(r"\"([^\"\n]{12,})\"", code)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.append(node.value)
        elif isinstance(node, ast.JoinedStr):  # the constant pieces of an f-string
            found += [v.value for v in node.values if isinstance(v, ast.Constant)]
    return found


def hidden_secrets():
    """What the hidden tests hold that students never see: their lines of code and their
    messages, less what is public anyway (the visible parts of the sources, nnlib, the book)."""
    public, secrets = [], []
    for a in ASSIGNMENTS:
        for cell in cells(ROOT / "solutions" / a / f"{a}.ipynb"):
            visible, hidden = split_hidden("".join(cell["source"]))
            if cell["cell_type"] == "code" and "BEGIN SOLUTION" not in visible:
                public.append(visible)
            for block in hidden:
                secrets += [(a, line.strip()) for line in block.splitlines()]
                secrets += [(a, s.strip()) for s in string_literals(block)]
    public += [p.read_text() for p in ROOT.glob("nnlib/*.py")]
    public += [p.read_text() for p in ROOT.glob("book/*.ipynb")]
    public_text = squeeze("\n".join(public))
    kept = set()
    for a, s in secrets:
        if len(squeeze(s)) >= 16 and squeeze(s) not in public_text and not s.startswith("#"):
            kept.add((a, s))
    return sorted(kept)


def test_release_holds_only_the_student_files(release):
    top = {p.name for p in release.iterdir() if p.name != ".git"}
    assert top <= TOP_LEVEL, f"not for students: {sorted(top - TOP_LEVEL)}"
    for name in ("README.md", "pyproject.toml", "binder/requirements.txt", "binder/runtime.txt"):
        assert (release / name).is_file(), f"the release has no {name}"
    assert sorted(p.name for p in release.glob("book/*.ipynb")) == CHAPTERS
    assert (release / "nnlib" / "__init__.py").is_file()
    assert (release / "nncheck" / "__init__.py").is_file() == HAS_NNCHECK
    for a in ASSIGNMENTS:
        assert (release / "exercises" / a / f"{a}.ipynb").is_file(), f"no student version of {a}"
    # the visible-check files that come with the student notebooks, all of them
    tracked = subprocess.run(
        ["git", "ls-files", "exercises"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    repo_exercises = {Path(f) for f in tracked.stdout.split()}
    shipped = {p.relative_to(release) for p in release.glob("exercises/**/*") if p.is_file()}
    assert shipped == repo_exercises
    for path in release.rglob("*"):
        assert path.name not in FORBIDDEN_NAMES, f"instructor material in the release: {path}"
        assert not path.name.endswith((".db", ".pyc")), f"not for students: {path}"


def test_no_file_holds_a_solution_or_hidden_test(release):
    secrets = hidden_secrets()
    assert len(secrets) > 20, "found too few hidden-test lines in solutions/ to check against"
    leaks = []
    for path in release_files(release):
        text = file_text(path)
        squeezed = squeeze(text)
        name = path.relative_to(release)
        leaks += [f"{name}: marker {m.group(0).strip()!r}" for m in MARKER.finditer(text)]
        leaks += [f"{name}: names {w!r}" for w in INSTRUCTOR_WORDS if w in text.lower()]
        leaks += [
            f"{name}: hidden test of {a}: {s!r}" for a, s in secrets if squeeze(s) in squeezed
        ]
    assert not leaks, "secrets in the student release:\n" + "\n".join(leaks)


def test_the_solutions_answers_are_not_in_it(release):
    """No solution block, and no line of one that is not public anyway, is in the release."""
    blocks, public = [], []
    for a in ASSIGNMENTS:
        for cell in cells(ROOT / "solutions" / a / f"{a}.ipynb"):
            source = "".join(cell["source"])
            found = re.findall(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", source, re.S)
            blocks += [(a, block) for block in found]
            public.append(
                re.sub(r"### BEGIN (SOLUTION|HIDDEN TESTS)\n.*?### END \1", "", source, flags=re.S)
            )
    assert blocks
    public += [file_text(p) for p in ROOT.glob("nnlib/*.py")]
    public += [file_text(p) for p in ROOT.glob("book/*.ipynb")]
    public = squeeze("\n".join(public))
    secrets = []
    for a, block in blocks:
        lines = [ln.strip() for ln in block.splitlines() if not ln.strip().startswith("#")]
        secrets += [(a, ln) for ln in lines if len(squeeze(ln)) >= 24]
        secrets.append((a, block.strip()))
    secrets = [(a, s) for a, s in secrets if squeeze(s) not in public]
    texts = {p.relative_to(release): squeeze(file_text(p)) for p in release_files(release)}
    leaks = [
        f"{n}: answer of {a}: {s!r}"
        for a, s in secrets
        for n, t in texts.items()
        if squeeze(s) in t
    ]
    assert not leaks, "solutions in the student release:\n" + "\n".join(leaks)


@pytest.mark.skipif(not HAS_NNCHECK, reason=NO_NNCHECK)
def test_points_students_only_at_their_own_tools(release):
    """No text in the release sends students to the instructor's grader."""
    found = []
    for path in release_files(release):
        text = file_text(path)
        found += [f"{path.relative_to(release)}: {c!r}" for c in INSTRUCTOR_COMMANDS if c in text]
    assert not found, "the release points at instructor tools:\n" + "\n".join(found)


def locked_packages(requirements):
    pins, other = {}, []
    for line in requirements.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        if "==" in line:
            name, version = line.split("==", 1)
            pins[re.sub(r"[-_.]+", "-", name.strip().lower())] = version.split(";")[0].strip()
        else:
            other.append(line)
    return pins, other


def test_the_readme_opens_the_configured_repository_in_binder(release):
    """_config.yml's repository (the one setting) is where the release's Binder link goes."""
    config = (ROOT / "_config.yml").read_text()
    url = re.search(r"^repository:\n\s+url:\s*(\S+)", config, re.M).group(1).rstrip("/")
    branch = re.search(r"^repository:\n(?:\s+.*\n)*?\s+branch:\s*(\S+)", config, re.M).group(1)
    owner_name = url.split("github.com/", 1)[1]
    readme = (release / "README.md").read_text()
    assert f"https://mybinder.org/v2/gh/{owner_name}/{branch}" in readme
    assert "{{" not in readme, "a placeholder of the README template is left"
    assert "colab" not in config.lower().split("launch_buttons:", 1)[1].split("\n\n", 1)[0]
    for command in ("%run -m nncheck", "python -m nncheck", "source .venv/bin/activate"):
        assert command in readme, f"the student README does not say {command!r}"


def test_the_environment_is_a_lean_lock(release):
    pins, other = locked_packages(release / "binder" / "requirements.txt")
    assert other == ["."], f"every line but the course package must be pinned: {other}"
    for name in ("numpy", "matplotlib", "ipywidgets", "scikit-learn", "jupyterlab"):
        assert name in pins, f"the lock has no {name}"
    assert "jupyterlab-myst" in pins, "the lock has no jupyterlab-myst (chapters in JupyterLab)"
    unwanted = sorted(
        n for n in pins if n in INSTRUCTOR_PACKAGES or n.startswith(("sphinx", "nbgrader"))
    )
    assert not unwanted, f"the student environment installs instructor tools: {unwanted}"
    assert (release / "binder" / "runtime.txt").read_text().strip() == "python-3.11"
    project = (release / "pyproject.toml").read_text()
    assert 'name = "nnlib"' not in project, "the name nnlib belongs to another project"


# --- the self-check in a fresh environment made from the release's own files ----------------


@pytest.fixture(scope="module")
def student_python(release, tmp_path_factory):
    """A fresh venv with the release's locked environment, installed the documented way."""
    if not HAS_NNCHECK:
        pytest.skip(NO_NNCHECK)
    env_dir = tmp_path_factory.mktemp("student-venv") / ".venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    # from a copy: building the course package leaves build/ and *.egg-info/ behind
    course = tmp_path_factory.mktemp("student-install") / "course"
    shutil.copytree(release, course)
    done = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        + ["-r", "binder/requirements.txt"],
        cwd=course,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert done.returncode == 0, f"installing the student lock failed:\n{done.stderr[-3000:]}"
    return python


def student_env(python):
    """The environment of a terminal after `source .venv/bin/activate`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env.pop("JUPYTER_PATH", None)
    env["VIRTUAL_ENV"] = str(python.parent.parent)
    env["PATH"] = f"{python.parent}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    env["MPLBACKEND"] = "Agg"
    return env


def test_the_lock_installs_exactly_and_nothing_for_instructors(release, student_python):
    freeze = subprocess.run(
        [str(student_python), "-m", "pip", "list", "--format=json"],
        capture_output=True,
        text=True,
        check=True,
    )
    installed = {
        re.sub(r"[-_.]+", "-", p["name"].lower()): p["version"] for p in json.loads(freeze.stdout)
    }
    pins, _ = locked_packages(release / "binder" / "requirements.txt")
    differ = {n: (v, installed.get(n)) for n, v in pins.items() if installed.get(n) != v}
    assert not differ, f"installed versions differ from the lock: {differ}"
    assert not INSTRUCTOR_PACKAGES & set(installed), "instructor tools in the student venv"
    extensions = subprocess.run(
        [str(student_python.parent / "jupyter"), "labextension", "list"],
        capture_output=True,
        text=True,
    )
    listed = (extensions.stdout + extensions.stderr).lower()
    assert "jupyterlab-myst" in listed, f"jupyterlab-myst is not enabled:\n{listed}"
    assert "nbgrader" not in listed and "formgrader" not in listed, listed
    assert "grader" not in subprocess.run(
        [str(student_python), "-c", "import importlib.util as u; print(u.find_spec('grader'))"],
        cwd=release / "exercises",
        capture_output=True,
        text=True,
    ).stdout.replace("None", "")


def solve(student_nb, solution_nb, target):
    """The student notebook with the solution's answer cells, as a student who solved it."""
    answers = {}
    for cell in json.loads(solution_nb.read_text())["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("solution"):
            source = "".join(cell["source"])
            source = re.sub(r"[ \t]*### (BEGIN|END) SOLUTION[^\n]*\n?", "", source)
            answers[meta["grade_id"]] = source
    nb = json.loads(student_nb.read_text())
    filled = 0
    for cell in nb["cells"]:
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if gid in answers:
            cell["source"] = answers[gid]
            filled += 1
    assert filled == len(answers), f"answer cells missing from {student_nb.name}"
    target.write_text(json.dumps(nb, indent=1))


SOLVED = "ch02_activations"  # the exercise solved for the self-check (a few seconds to run)


@pytest.fixture(scope="module")
def solved_course(release, tmp_path_factory):
    """A copy of the release in which a student solved exercises/SOLVED."""
    course = tmp_path_factory.mktemp("student") / "course"
    shutil.copytree(release, course)
    notebook = course / "exercises" / SOLVED / f"{SOLVED}.ipynb"
    solve(notebook, ROOT / "solutions" / SOLVED / f"{SOLVED}.ipynb", notebook)
    return course


def assert_full_marks(out):
    totals = re.findall(r"(\d+(?:\.\d+)?) / (\d+(?:\.\d+)?)", out)
    assert totals, f"no score in the self-check's report:\n{out}"
    score, most = totals[-1]
    assert float(score) == float(most) > 0, f"a solved {SOLVED} lost points:\n{out}"
    assert "FAILED" not in out, out
    assert re.search(r"hidden", out, re.I), f"the report does not say hidden tests exist:\n{out}"
    leaks = [s for a, s in hidden_secrets() if a == SOLVED and squeeze(s) in squeeze(out)]
    assert not leaks, f"the self-check printed hidden test code: {leaks}"


def self_check(folder, python):
    """The README's terminal command, run in `folder` with the environment active: its output."""
    done = subprocess.run(
        ["python", "-m", "nncheck", f"exercises/{SOLVED}/{SOLVED}.ipynb"],
        cwd=folder,
        env=student_env(python),
        capture_output=True,
        text=True,
        timeout=600,
    )
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    return out


def test_a_solved_exercise_scores_full_marks(solved_course, student_python):
    """The README's terminal command, from the release folder, with the environment active."""
    assert_full_marks(self_check(solved_course, student_python))


def test_an_unsolved_exercise_does_not(release, student_python):
    """The same command on the notebook as handed out: the check is not a rubber stamp."""
    out = self_check(release, student_python)
    totals = re.findall(r"(\d+(?:\.\d+)?) / (\d+(?:\.\d+)?)", out)
    assert totals and float(totals[-1][0]) == 0 < float(totals[-1][1]), out


KERNEL_RUN = """
import sys
from jupyter_client.manager import start_new_kernel

km, kc = start_new_kernel(kernel_name="python3", cwd=sys.argv[1])
out = []
def hook(msg):
    if msg["msg_type"] == "stream":
        out.append(msg["content"]["text"])
    elif msg["msg_type"] == "error":
        out.append("\\n".join(msg["content"]["traceback"]))
try:
    kc.execute_interactive(sys.argv[2], timeout=600, output_hook=hook)
finally:
    kc.stop_channels()
    km.shutdown_kernel(now=True)
print("".join(out))
"""


def test_the_self_check_from_a_notebook_cell(solved_course, student_python):
    """`%run -m nncheck NB` in a cell of the notebook's kernel (as in JupyterLab), with the
    environment NOT on the PATH (`.venv/bin/jupyter lab` started without activating it)."""
    env = student_env(student_python)
    env["PATH"] = env["PATH"].split(os.pathsep, 1)[1]
    env.pop("VIRTUAL_ENV")
    done = subprocess.run(
        [str(student_python), "-c", KERNEL_RUN]
        + [str(solved_course / "exercises" / SOLVED), f"%run -m nncheck {SOLVED}.ipynb"],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert_full_marks(done.stdout)
