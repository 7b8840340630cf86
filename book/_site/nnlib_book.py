"""Sphinx extension of the online book (loaded from _config.yml's local_extensions).

sphinx-thebe 0.3.1 adds its configuration script twice to every page under Jupyter Book, and
the second copy fails in the browser ("Identifier 'THEBE_JS_URL' has already been declared").
This drops repeated scripts from each page.
"""


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


def setup(app):
    app.connect("html-page-context", _drop_repeated_scripts, priority=100)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
