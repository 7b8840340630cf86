"""The online book as readers get it: one clean build per test session, served on localhost.

Fixtures:
    book: a clean ``jupyter-book build`` of the repository (every notebook executed from scratch,
        ``execute_notebooks: force``, or ``inline`` as the book is configured), done once per
        session into ``test-output/book/``. It starts in the background as soon as collection
        ends, and the tests that need it run last, so the build overlaps the rest of the test
        session (nnlib's tests, nbval).
    site: ``book``'s HTML served by a local HTTP server (its base URL).
    browser: headless Debian Chromium driven by Playwright, with no network but localhost.
    reader: a function that opens one page like a reader and records what went wrong.

Environment (for working on these tests, not needed in CI):
    NNLIB_BOOK_SOURCE: build this book folder instead of the repository (a throwaway book).
    NNLIB_CHROMIUM: the Chromium executable (default /usr/bin/chromium).
"""

import functools
import http.server
import os
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from .bookpages import OUTPUT, SCREENSHOTS, SOURCE

CHROMIUM = os.environ.get("NNLIB_CHROMIUM", "/usr/bin/chromium")


@dataclass
class Build:
    returncode: int
    log: str
    html: Path
    seconds: float


_build = {}


def _start_build():
    """Start the clean book build in the background (once); the ``book`` fixture waits for it."""
    if _build:
        return
    out = OUTPUT / "book"
    shutil.rmtree(out, ignore_errors=True)
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    (OUTPUT / "page-weights.txt").unlink(missing_ok=True)
    out.mkdir(parents=True)
    config = yaml.safe_load((SOURCE / "_config.yml").read_text())
    execute = config.setdefault("execute", {})
    if execute.get("execute_notebooks") != "inline":  # inline runs every notebook anyway
        execute["execute_notebooks"] = "force"
    # local extension paths are relative to the configuration file, which moves to out/
    extensions = config.get("sphinx", {}).get("local_extensions") or {}
    for name, path in extensions.items():
        extensions[name] = str((SOURCE / path).resolve())
    config_path = out / "_config.test.yml"
    config_path.write_text(yaml.safe_dump(config, sort_keys=False))
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    # the kernels must draw figures inline as for readers: no MPLBACKEND=Agg from test.sh here
    env.pop("MPLBACKEND", None)
    jb = Path(sys.executable).with_name("jupyter-book")
    log = (out / "build.log").open("w")
    _build.update(
        out=out,
        log=log,
        start=time.monotonic(),
        process=subprocess.Popen(
            [str(jb), "build", str(SOURCE), "--config", str(config_path)]
            + ["--path-output", str(out), "-W", "--keep-going"],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
        ),
    )


def _uses_book(item):
    return "book" in getattr(item, "fixturenames", ())


def pytest_collection_modifyitems(session, config, items):
    """Run the tests of the built book last, so that its build overlaps the other tests."""
    items[:] = [i for i in items if not _uses_book(i)] + [i for i in items if _uses_book(i)]


def pytest_collection_finish(session):
    """Start the book's build as soon as the tests are known (it runs beside the others)."""
    if any(_uses_book(i) for i in session.items) and not session.config.option.collectonly:
        _start_build()


def pytest_sessionfinish(session):
    process = _build.get("process")
    if process is not None and process.poll() is None:
        process.terminate()
        process.wait()


@pytest.fixture(scope="session")
def book():
    """One clean build with warnings as errors and every notebook executed from scratch."""
    _start_build()
    returncode = _build["process"].wait()
    seconds = time.monotonic() - _build["start"]
    _build["log"].close()
    out = _build["out"]
    log = (out / "build.log").read_text()
    html = out / "_build" / "html"
    if not (html / "index.html").exists():
        pytest.fail(f"the book did not build (log: {out / 'build.log'}):\n{log[-4000:]}")
    return Build(returncode, log, html, seconds)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def site(book):
    """The built book on http://127.0.0.1:<port>/ (base URL, with a trailing slash)."""
    handler = functools.partial(_QuietHandler, directory=str(book.html))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("playwright is missing: scripts/setup.sh dev installs requirements-dev.txt")
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (scripts/setup.sh dev)")
    args = [
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-gpu",
        "--disable-quic",
    ]
    if os.geteuid() == 0:
        args.append("--no-sandbox")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=args)
        yield chromium
        chromium.close()


@dataclass
class Visit:
    """What a reader's browser saw on one page."""

    page: object
    url: str
    console_errors: list = field(default_factory=list)
    failed_requests: list = field(default_factory=list)
    outside_requests: list = field(default_factory=list)

    def problems(self):
        return (
            [f"console error: {e}" for e in self.console_errors]
            + [f"failed request: {r}" for r in self.failed_requests]
            + [f"request off the site (network is blocked): {r}" for r in self.outside_requests]
        )


@pytest.fixture
def reader(browser, site):
    """``reader(page)`` opens a toc page (e.g. "book/01_neuron") with only localhost reachable."""
    contexts = []

    def visit(page_name):
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        contexts.append(context)
        page = context.new_page()
        url = site + page_name + ".html"
        v = Visit(page, url)

        def route(r):
            if r.request.url.startswith(site):
                r.continue_()
            else:
                v.outside_requests.append(r.request.url)
                r.abort()

        context.route("**/*", route)
        page.on(
            "console",
            lambda m: (
                v.console_errors.append(f"{m.text} ({m.location.get('url', '')})")
                if m.type == "error"
                else None
            ),
        )
        page.on("pageerror", lambda e: v.console_errors.append(f"uncaught: {e}"))
        page.on(
            "requestfailed",
            lambda r: (
                v.failed_requests.append(f"{r.url} ({r.failure})")
                if urlsplit(r.url).scheme in ("http", "https")
                else None
            ),
        )
        page.on(
            "response",
            lambda r: (
                v.failed_requests.append(f"{r.url} (HTTP {r.status})") if r.status >= 400 else None
            ),
        )
        page.goto(url, wait_until="load")
        page.wait_for_load_state("networkidle")
        return v

    yield visit
    for context in contexts:
        context.close()
