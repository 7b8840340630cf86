"""A chapter as a student reads it: JupyterLab from the student environment, run, read back.

The student environment is a venv built from ``binder/requirements.txt`` (what Binder
installs), reused while that file and the course package are unchanged
(``test-output/student-venv``). The test starts JupyterLab from it on 127.0.0.1 with a
token, opens a copy of a chapter in headless Chromium (no network but localhost), runs all
cells from the Run menu, and reads the rendered page back: MyST admonitions rendered, every
inline number shown as the number the code computes (checked against a separate run of the
chapter's code), math typeset, no raw markup. It stops its server (and kernels) at the end.

Environment (for working on this test, not needed in CI):
    NNLIB_STUDENT_REQUIREMENTS: another requirements file for the student venv.
"""

import hashlib
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from .bookpages import OUTPUT, ROOT, SOURCE

REQUIREMENTS = Path(
    os.environ.get("NNLIB_STUDENT_REQUIREMENTS", ROOT / "binder" / "requirements.txt")
)
VENV = OUTPUT / "student-venv"
# one chapter keeps the test short: notes, math, inline numbers and a widget are all in it
LAB_CHAPTERS = ["book/01_neuron"]
EVAL = re.compile(r"\{eval\}`([^`]+)`")


def _package_files():
    for folder in ("nnlib", "nncheck"):
        yield from sorted((ROOT / folder).rglob("*.py"))
    yield ROOT / "pyproject.toml"


def _digest(*paths):
    h = hashlib.sha256()
    for path in paths:
        if path.exists():
            h.update(path.read_bytes())
    return h.hexdigest()


@pytest.fixture(scope="session")
def student_env():
    """The student venv: built again when the requirements change; when only the course
    package changed, the package is installed again (the lock names it as ".")."""
    stamp = VENV / "nnlib-test-stamp"
    package_stamp = VENV / "nnlib-test-package-stamp"
    key = _digest(REQUIREMENTS)
    package_key = _digest(*_package_files())
    python = VENV / "bin" / "python"
    log = OUTPUT / "student-venv.log"
    if not (stamp.exists() and stamp.read_text() == key):
        shutil.rmtree(VENV, ignore_errors=True)
        base = getattr(sys, "_base_executable", sys.executable)
        subprocess.run([base, "-m", "venv", str(VENV)], check=True)
        with log.open("w") as out:
            done = subprocess.run(
                [str(python), "-m", "pip", "install", "--disable-pip-version-check", "-r"]
                + [str(REQUIREMENTS)],
                cwd=ROOT,  # the lock names the course package as "." (the top folder)
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        if done.returncode:
            pytest.fail(f"pip could not install {REQUIREMENTS} (log: {log})")
        stamp.write_text(key)
        package_stamp.write_text(package_key)
    elif not (package_stamp.exists() and package_stamp.read_text() == package_key):
        with log.open("a") as out:
            done = subprocess.run(
                [str(python), "-m", "pip", "install", "--disable-pip-version-check", "--no-deps"]
                + ["--force-reinstall", "."],
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        if done.returncode:
            pytest.fail(f"pip could not install the course package again (log: {log})")
        package_stamp.write_text(package_key)
    missing = subprocess.run(
        [str(python), "-c", "import jupyterlab, jupyterlab_myst, ipywidgets, nnlib"],
        capture_output=True,
        text=True,
    )
    if missing.returncode:
        pytest.fail(
            f"the student environment ({REQUIREMENTS.relative_to(ROOT)}) lacks what the "
            f"chapters need in JupyterLab:\n{missing.stderr[-500:]}"
        )
    return VENV


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _api(base, token, path, method="GET"):
    request = urllib.request.Request(
        f"{base}{path}", method=method, headers={"Authorization": f"token {token}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        body = response.read()
    return json.loads(body) if body else None


@pytest.fixture(scope="session")
def lab(student_env, tmp_path_factory):
    """JupyterLab from the student venv on 127.0.0.1, serving a copy of the book's folder."""
    home = tmp_path_factory.mktemp("lab")
    root = home / "course"
    shutil.copytree(SOURCE / "book", root / "book", ignore=shutil.ignore_patterns("_site"))
    # every cell in the page (no windowing), so that the whole notebook can be read back
    settings = home / "settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    (settings / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
    # and no pop-up asking to fetch Jupyter news (over the notebook, and off the machine)
    news = home / "settings" / "@jupyterlab" / "apputils-extension"
    news.mkdir(parents=True)
    (news / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false"}))
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("JUPYTER", "JPY_", "MPLBACKEND", "VIRTUAL_ENV"))
    }
    env.update(
        JUPYTER_CONFIG_DIR=str(home / "config"),
        JUPYTER_DATA_DIR=str(home / "data"),
        JUPYTER_RUNTIME_DIR=str(home / "runtime"),
        JUPYTERLAB_SETTINGS_DIR=str(home / "settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"),
        IPYTHONDIR=str(home / "ipython"),
        MPLCONFIGDIR=str(home / "mpl"),
        OPENBLAS_NUM_THREADS="1",
        PATH=f"{student_env / 'bin'}:{env.get('PATH', '')}",
    )
    port = _free_port()
    token = secrets.token_hex(16)
    base = f"http://127.0.0.1:{port}/"
    command = [
        str(student_env / "bin" / "jupyter"),
        "lab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.news_url=",
    ]
    if os.geteuid() == 0:
        command.append("--allow-root")
    log_path = OUTPUT / "jupyterlab.log"
    log = log_path.open("w")
    server = subprocess.Popen(
        command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            if server.poll() is not None:
                pytest.fail(f"JupyterLab stopped at start (log: {log_path})")
            try:
                _api(base, token, "api/status")
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not answer within 120 s (log: {log_path})")
                time.sleep(0.5)
        yield {"base": base, "token": token, "root": root, "python": student_env / "bin/python"}
    finally:
        try:  # kernels first, then the server, through its API (it cleans up after itself)
            for kernel in _api(base, token, "api/kernels"):
                _api(base, token, f"api/kernels/{kernel['id']}", method="DELETE")
            _api(base, token, "api/shutdown", method="POST")
        except OSError:
            pass
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


# The values the text shows, from a separate run of the chapter's code (plain IPython, no
# JupyterLab): {eval name: the text it renders as}.
EXPECTED = r"""
import json, sys
import matplotlib
matplotlib.use("Agg")
from IPython.core.interactiveshell import InteractiveShell
nb = json.load(open(sys.argv[1]))
shell = InteractiveShell.instance()
for cell in nb["cells"]:
    if cell["cell_type"] == "code":
        result = shell.run_cell("".join(cell["source"]), silent=True)
        if not result.success:
            sys.exit(f"cell {cell.get('id')} failed: {result.error_in_exec!r}")
names = json.loads(sys.argv[2])
print(json.dumps({n: repr(shell.user_ns[n]) for n in names}))
"""

READ_BACK = """() => {
  const cells = [...document.querySelectorAll('.jp-Notebook .jp-MarkdownCell')];
  // jupyterlab-myst renders a markdown cell into a widget of class "myst"
  const rendered = cells.map(c => c.querySelector('.myst, .jp-RenderedMySTMarkdown'))
    .filter(Boolean);
  const NOTE = 'aside, .myst-admonition, .admonition';
  const all = sel => rendered.flatMap(r => [...r.querySelectorAll(sel)]);
  const text = rendered.map(r => r.innerText).join('\\n\\n');
  const frames = [...document.querySelectorAll('.jp-Notebook .nnlib-explore img')]
    .filter(i => i.getClientRects().length > 0).map(i => i.getAttribute('title') || '');
  return {text, cells: cells.length, rendered: rendered.length,
          math: all('.katex, mjx-container').length,
          notes: all(NOTE).filter(e => !e.parentElement.closest(NOTE)).length,
          errors: all('.myst-RenderedExpressionError').map(e => e.innerText.slice(0, 200)),
          frames,
          classes: [...new Set(cells.flatMap(c => [...c.querySelectorAll('*')])
            .map(e => e.tagName.toLowerCase() + '.' + [...e.classList].join('.')))]};
}"""

# the execution count of each code cell, from the notebook model that JupyterLab keeps in the
# cell's prompt (also when the cell's input is folded)
PROMPTS = """() => [...document.querySelectorAll('.jp-Notebook .jp-CodeCell')].map(c => {
  const p = c.querySelector('.jp-InputArea-prompt, .jp-InputPrompt');
  return p ? p.textContent.trim() : '?';
})"""


def _wait_for_run(page, seconds):
    """Wait until every code cell has run (a number in its prompt, none busy)."""
    deadline = time.monotonic() + seconds
    prompts = []
    while time.monotonic() < deadline:
        prompts = page.evaluate(PROMPTS)
        if prompts and all(re.fullmatch(r"\[\d+\]:?", p) for p in prompts):
            return prompts
        page.wait_for_timeout(1000)
    raise AssertionError(f"the chapter did not finish running in {seconds} s: prompts {prompts}")


def _menu(page, menu, item):
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(f"^{menu}$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{item}$")).click()


def _run_all(page):
    # folded cells (hidden set-up) show no prompt: unfold them so that every prompt counts
    _menu(page, "View", "Expand All Code")
    _menu(page, "Run", "Run All Cells")


@pytest.mark.parametrize("chapter", LAB_CHAPTERS)
def test_chapter_reads_in_jupyterlab(lab, browser, chapter):
    notebook = json.loads((SOURCE / f"{chapter}.ipynb").read_text())
    markdown = "\n".join(
        "".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "markdown"
    )
    names = sorted(set(EVAL.findall(markdown)))
    expected = subprocess.run(
        [str(lab["python"]), "-c", EXPECTED, str(SOURCE / f"{chapter}.ipynb"), json.dumps(names)],
        cwd=lab["root"] / Path(chapter).parent,
        capture_output=True,
        text=True,
        env=dict(os.environ, OPENBLAS_NUM_THREADS="1", MPLBACKEND="Agg"),
    )
    assert expected.returncode == 0, (
        f"{chapter} does not run in the student venv:\n" + (expected.stderr[-2000:])
    )
    values = json.loads(expected.stdout.strip().splitlines()[-1])

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    outside = []

    def route(r):
        if r.request.url.startswith(lab["base"]):
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    page = context.new_page()
    try:
        page.goto(f"{lab['base']}lab/tree/{chapter}.ipynb?token={lab['token']}")
        page.wait_for_selector(".jp-Notebook .jp-MarkdownCell", timeout=120_000)
        page.wait_for_selector(
            ".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=120_000
        )
        _run_all(page)
        _wait_for_run(page, 300)
        page.wait_for_selector(
            ".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=60_000
        )
        # inline expressions are evaluated as their markdown cell runs; give them a moment
        page.wait_for_timeout(2000)
        seen = page.evaluate(READ_BACK)
    finally:
        shot = OUTPUT / "screenshots" / f"jupyterlab-{Path(chapter).name}.png"
        shot.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(shot), full_page=True)
        context.close()

    text = seen["text"]
    (OUTPUT / f"jupyterlab-{Path(chapter).name}.txt").write_text(text)
    (OUTPUT / f"jupyterlab-{Path(chapter).name}-dom.txt").write_text("\n".join(seen["classes"]))
    problems = []
    for raw in ("{glue", ":::", "{note}", "{eval}", "$$"):
        if raw in text:
            at = text.index(raw)
            problems.append(f"raw markup {raw!r} in the page: ...{text[max(0, at - 60) : at + 60]}")
    flat = " ".join(text.split())
    for name, shown in values.items():
        if shown not in text:
            problems.append(f"{{eval}}`{name}` should show {shown!r}; it is not in the page")
    # each number in its place: the plain words just before it in the text, then the number
    for m in EVAL.finditer(markdown):
        before = markdown[: m.start()].split()[-2:]
        if len(before) == 2 and all(re.fullmatch(r"[A-Za-z,;:()]+", w) for w in before):
            snippet = " ".join(before + [values[m[1]]])
            if snippet not in flat:
                problems.append(f"expected {snippet!r} in the page ({{eval}}`{m[1]}`)")
    if "$" in markdown and seen["math"] == 0:
        problems.append("no typeset math in the page")
    note_count = markdown.count(":::{note}") + markdown.count("```{note}")
    if seen["notes"] < note_count:
        problems.append(f"{seen['notes']} rendered notes, the chapter has {note_count}")
    problems += [f"inline expression failed: {e}" for e in seen["errors"]]
    if seen["rendered"] < seen["cells"]:
        problems.append(f"only {seen['rendered']} of {seen['cells']} markdown cells rendered")
    problems += [f"request off the server: {u}" for u in outside]
    assert not problems, f"{chapter} in JupyterLab:\n" + "\n".join(problems)
