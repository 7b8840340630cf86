"""Sphinx extension of the online book (loaded from _config.yml's local_extensions).

1. sphinx-thebe 0.3.1 adds its configuration script twice to every page under Jupyter Book,
   and the second copy fails in the browser ("Identifier 'THEBE_JS_URL' has already been
   declared"). This drops repeated scripts from each page.
2. The path of an exercise notebook written as code in the text (``exercises/<a>/<a>.ipynb``)
   becomes a link to that notebook in the course repository (``repository: url`` and
   ``branch`` of _config.yml), so that readers of the online book can open it.
"""

import re

from docutils import nodes

EXERCISE_PATH = re.compile(r"exercises/[\w.-]+/[\w.-]+\.ipynb")


def _drop_repeated_scripts(app, pagename, templatename, context, doctree):
    if "script_files" not in context:
        return
    seen = set()
    unique = []
    for script in context["script_files"]:
        # the copies differ only in filename: None for one, "" for the other
        key = (
            getattr(script, "filename", script) or "",
            tuple(sorted(getattr(script, "attributes", {}).items())),
        )
        if key not in seen:
            seen.add(key)
            unique.append(script)
    # in place: handlers that run later add the page's own scripts to this same list
    context["script_files"][:] = unique


def _link_exercise_paths(app, doctree, docname):
    options = app.config.html_theme_options or {}
    repository = (options.get("repository_url") or "").rstrip("/")
    if not repository:
        return
    branch = options.get("repository_branch") or "main"
    for literal in list(doctree.findall(nodes.literal)):
        path = literal.astext().strip()
        if not EXERCISE_PATH.fullmatch(path) or isinstance(literal.parent, nodes.reference):
            continue
        link = nodes.reference(
            "", "", refuri=f"{repository}/blob/{branch}/{path}", classes=["nnlib-exercise"]
        )
        literal.replace_self(link)
        link += literal


def setup(app):
    app.connect("html-page-context", _drop_repeated_scripts, priority=100)
    app.connect("doctree-resolved", _link_exercise_paths)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
