"""The online book as readers get it: one clean build per test session, served on localhost.

Fixtures:
    book: a clean ``jupyter-book build`` of the repository (every notebook executed from scratch,
        ``execute_notebooks: force``), done once per session into ``test-output/book/``.
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


@pytest.fixture(scope="session")
def book():
    """One clean build with warnings as errors and every notebook executed from scratch."""
    out = OUTPUT / "book"
    shutil.rmtree(out, ignore_errors=True)
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    (OUTPUT / "page-weights.txt").unlink(missing_ok=True)
    out.mkdir(parents=True)
    config = yaml.safe_load((SOURCE / "_config.yml").read_text())
    config.setdefault("execute", {})["execute_notebooks"] = "force"
    # local extension paths are relative to the configuration file, which moves to out/
    extensions = config.get("sphinx", {}).get("local_extensions") or {}
    for name, path in extensions.items():
        extensions[name] = str((SOURCE / path).resolve())
    config_path = out / "_config.test.yml"
    config_path.write_text(yaml.safe_dump(config, sort_keys=False))
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", MPLBACKEND="Agg")
    jb = Path(sys.executable).with_name("jupyter-book")
    start = time.monotonic()
    result = subprocess.run(
        [str(jb), "build", str(SOURCE), "--config", str(config_path), "--path-output", str(out)]
        + ["-W", "--keep-going"],
        capture_output=True,
        text=True,
        env=env,
    )
    seconds = time.monotonic() - start
    log = result.stdout + result.stderr
    (out / "build.log").write_text(log)
    html = out / "_build" / "html"
    if not (html / "index.html").exists():
        pytest.fail(f"the book did not build (log: {out / 'build.log'}):\n{log[-4000:]}")
    return Build(result.returncode, log, html, seconds)


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
    playwright_api = pytest.importorskip("playwright.sync_api")
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
    with playwright_api.sync_playwright() as p:
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
