"""What the book's table of contents lists, for the book tests (no pytest fixtures here)."""

import os
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
SOURCE = Path(os.environ.get("NNLIB_BOOK_SOURCE", ROOT)).resolve()
OUTPUT = ROOT / "test-output"
SCREENSHOTS = OUTPUT / "screenshots"
PLACEHOLDER = "This chapter is being written."


def toc_pages(source=SOURCE):
    """The documents the table of contents lists, root first (paths without suffix)."""
    toc = yaml.safe_load((source / "_toc.yml").read_text())
    pages = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                pages.append(entry["file"])
            walk(entry.get("sections"))

    for part in toc.get("parts", [{"chapters": toc.get("chapters")}]):
        walk(part.get("chapters"))
    return pages


def source_file(page, source=SOURCE):
    """The source of a toc entry (.ipynb or .md)."""
    for suffix in (".ipynb", ".md"):
        if (source / (page + suffix)).exists():
            return source / (page + suffix)
    raise FileNotFoundError(f"no source for toc entry {page!r} in {source}")


def is_chapter(page):
    """Chapters are the numbered notebooks (book/01_neuron ...); the root page is not one."""
    return re.match(r"\d\d_", Path(page).name) is not None


def is_placeholder(page, source=SOURCE):
    return PLACEHOLDER in source_file(page, source).read_text()
