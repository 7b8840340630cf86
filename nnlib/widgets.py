"""Controls for the chapters: sliders that change a plot, alive with or without a kernel.

:func:`explore` draws a figure for every position of one or two controls ahead of time and
shows them as image frames in an ``ipywidgets.Stack``; the control is tied to the stack's
``selected_index`` with ``ipywidgets.jslink``, which runs in the browser. The same widget
therefore responds in Jupyter or Binder (with a kernel) and in the static online book (no
kernel): one code path for both.

Frames are drawn at twice the resolution they are shown at (sharp on high-density screens) and
stored as WebP, which keeps a chapter's page under 3 MB. Each frame can carry a text
alternative that says what it shows: it becomes the image's ``title`` (ipywidgets 8 renders
the widget's ``tooltip`` that way; the static page keeps it) so screen readers announce it.

Importing this module also sets the book's plotting style (:func:`use_book_style`): a
colour-blind-safe colour cycle and colour map, and text no smaller than 8 points.
"""

import html
import io
import itertools
import numbers
import re

import ipywidgets as widgets
import matplotlib
import matplotlib.pyplot as plt
import traitlets

MAX_FRAMES = 200
# The frames are embedded in the chapter's page (base64, about 4/3 of their size) and a
# chapter must stay under 3 MB: one widget may hold at most this many bytes of frames.
MAX_FRAME_BYTES = 1_500_000
# A figure of (6, 3.5) inches is shown 432 x 252 CSS pixels wide (72 per inch) and drawn with
# twice as many pixels each way, for screens with two device pixels per CSS pixel.
FRAME_DPI = 72
FRAME_SCALE = 2
# WebP quality (0-100): at twice the resolution, 70 keeps lines and 8-point text crisp
# (about 1.25 times the bytes of the old 1x 128-colour PNG frames).
FRAME_QUALITY = 70

# Okabe & Ito's eight colours, told apart with every common colour-vision deficiency
# (https://jfly.uni-koeln.de/color/), black last.
OKABE_ITO = [
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#D55E00",  # vermillion
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#F0E442",  # yellow
    "#000000",  # black
]

BOOK_STYLE = {
    "axes.prop_cycle": matplotlib.cycler(color=OKABE_ITO),
    "image.cmap": "cividis",
    "font.size": 10,
    "axes.titlesize": 10,
    "axes.labelsize": 10,
    "legend.fontsize": 8,
    "legend.title_fontsize": 8,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "legend.framealpha": 0.9,
}


def use_book_style():
    """Set matplotlib's defaults to the book's style (colour-blind-safe colours, readable text).

    Called when :mod:`nnlib.widgets` is imported; call ``matplotlib.rcdefaults()`` to undo it.
    Colours alone never tell classes apart in the book: give each class its own marker too
    (see :func:`class_markers`). In a notebook, static figures are also drawn at twice their
    size and shown at their size (IPython's "retina" PNG), like the widgets' frames.
    """
    matplotlib.rcParams.update(BOOK_STYLE)
    _retina_figures()


def _retina_figures():
    try:
        from IPython import get_ipython
        from matplotlib_inline.backend_inline import set_matplotlib_formats
    except ImportError:
        return
    if get_ipython() is not None:
        set_matplotlib_formats("retina")


# The markers of the classes 0, 1, 2, ... in scatter plots, so that class membership does
# not depend on colour alone.
CLASS_MARKERS = ["o", "^", "s", "D", "v", "P", "X", "*", "h", "<"]


def class_markers(ax, X, y, *, labels=None, colors=None, **kwargs):
    """Scatter the columns of ``X`` (shape ``(2, m)``), one colour AND one marker per class.

    Args:
        ax: the matplotlib Axes to draw on.
        X: the points as columns, shape ``(2, m)``.
        y: the class of each point (``m`` integers).
        labels: the legend label of each class, e.g. ``{0: "class 0", 1: "class 1"}``.
        colors: the colour of each class (default: the book's colour cycle).
        **kwargs: passed to ``ax.scatter`` (e.g. ``s=30``, ``edgecolors="k"``).
    """
    import numpy as np

    X = np.asarray(X)
    y = np.asarray(y).ravel()
    if X.ndim != 2 or X.shape[0] != 2:
        raise ValueError(f"X: expected the points as columns, shape (2, m), got {X.shape}")
    if y.shape[0] != X.shape[1]:
        raise ValueError(
            f"y: expected {X.shape[1]} class labels (one per column of X), got {y.shape[0]}"
        )
    classes = sorted(set(y.tolist()))
    for i, c in enumerate(classes):
        mask = y == c
        color = (colors or {}).get(c, OKABE_ITO[i % len(OKABE_ITO)])
        label = (labels or {}).get(c, f"class {c:g}" if isinstance(c, float) else f"class {c}")
        ax.scatter(
            X[0, mask],
            X[1, mask],
            marker=CLASS_MARKERS[i % len(CLASS_MARKERS)],
            color=color,
            label=label,
            **kwargs,
        )


def figure_frame(fig, *, dpi=FRAME_DPI, scale=FRAME_SCALE, quality=FRAME_QUALITY):
    """A figure as a sharp, small image; closes it.

    Returns ``(data, width, height)``: WebP bytes drawn at ``scale`` times ``dpi``, and the
    size in CSS pixels to show it at (the figure's size in inches times ``dpi``).
    """
    from PIL import Image

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi * scale)
    plt.close(fig)
    buf.seek(0)
    img = Image.open(buf).convert("RGB")
    out = io.BytesIO()
    img.save(out, format="WEBP", quality=quality, method=6)
    width, height = (round(n / scale) for n in img.size)
    return out.getvalue(), width, height


def _split(result):
    """(what to show, text alternative or None) from what a draw function returned."""
    if isinstance(result, tuple):
        if len(result) != 2:
            raise ValueError(
                "draw must return a Figure, an HTML string, or a tuple (figure_or_html, "
                f"text alternative as a str); got a tuple of {len(result)} items"
            )
        if not isinstance(result[1], str):
            raise ValueError(
                "draw returned a tuple whose second item is not a str: expected "
                f"(figure_or_html, text alternative), got {type(result[1]).__name__}"
            )
        return result
    return result, None


class _FrameImage(widgets.Image):
    """An Image that can carry a tooltip (its text alternative).

    ipywidgets 8's JavaScript (``DOMWidgetView.updateTooltip``, @jupyter-widgets/base 6)
    reads the model's ``description`` to decide where the tooltip goes, and an Image has no
    description: with a tooltip, its view fails ("Could not create a view"). An empty
    description makes it put the tooltip on the image as its ``title``.
    """

    description = traitlets.Unicode("").tag(sync=True)


def _frame(result, layout=None):
    """A widget for what a draw function returned: a Figure (as an image) or HTML text,
    optionally with a text alternative (the image's title; for HTML, an ARIA label).
    ``layout``: the frames of one widget share one Layout (fewer models in the page)."""
    shown, text = _split(result)
    tooltip = text.strip() if text and text.strip() else None
    if isinstance(shown, matplotlib.figure.Figure):
        data, width, height = figure_frame(shown)
        return _FrameImage(
            value=data,
            format="webp",
            width=str(width),
            height=str(height),
            tooltip=tooltip,
            layout=layout or _frame_layout(),
        )
    if isinstance(shown, str):
        if tooltip:
            label = html.escape(tooltip, quote=True)
            shown = f'<div role="group" aria-label="{label}" title="{label}">{shown}</div>'
        return widgets.HTML(value=shown, tooltip=tooltip)
    raise ValueError(
        "draw must return a matplotlib Figure, an HTML string or a tuple (figure_or_html, "
        f"text alternative), got {type(shown).__name__}"
    )


def _frame_layout():
    return widgets.Layout(max_width="100%", height="auto")


def _is_number(v):
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


def _control(name, values, label=None, start=None):
    """A SelectionSlider for numbers, a Dropdown for words."""
    if isinstance(values, dict):
        options = list(values.items())
    else:
        options = [(_label(v), v) for v in values]
    if not options:
        raise ValueError(f"control {name!r}: expected at least one value")
    description = label if label is not None else name
    if start is None:
        index = len(options) // 2 if all(_is_number(v) for _, v in options) else 0
    else:
        matches = [i for i, (_, v) in enumerate(options) if _same(v, start)]
        if not matches:
            raise ValueError(
                f"start[{name!r}]: {start!r} is not one of the control's values "
                f"{[v for _, v in options]}"
            )
        index = matches[0]
    if all(_is_number(v) for _, v in options):
        return widgets.SelectionSlider(
            options=options,
            value=options[index][1],
            description=description,
            continuous_update=True,
            style={"description_width": "initial"},
            layout=widgets.Layout(width="460px", max_width="100%"),
        )
    return widgets.Dropdown(
        options=options,
        value=options[index][1],
        description=description,
        style={"description_width": "initial"},
    )


def _same(a, b):
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return a is b


def _label(v):
    """How a slider shows a value: short, but never rounded to another value (0.9999, not 1)."""
    if isinstance(v, float):
        for digits in range(3, 17):
            text = f"{v:.{digits}g}"
            if float(text) == v:
                return text
        return repr(v)
    return str(v)


def explore(draw, *, labels=None, start=None, **controls):
    """A widget showing ``draw(**values)`` for every combination of the controls' values.

    Args:
        draw: a function of keyword arguments, one per control, returning a matplotlib Figure,
            an HTML string (for numbers and tables), or a tuple ``(figure_or_html, text)`` where
            ``text`` says in words what this frame shows (its text alternative).
        labels: the controls' visible labels in words, with units, e.g.
            ``{"theta": "direction of w (degrees)"}``; a control without one shows its name.
        start: the value each control opens on, e.g. ``{"theta": 90}`` (default: the middle
            value of a slider, the first option of a dropdown).
        **controls: ``name=[values]`` (a slider for numbers, a dropdown otherwise) or
            ``name={label: value}``. One or two controls.

    Example:
        >>> explore(draw_line, labels={"w": "weight w"}, w=[0.0, 0.5, 1.0])  # doctest: +SKIP
    """
    if not callable(draw):
        raise ValueError(f"draw: expected a function, got {type(draw).__name__}")
    if not 1 <= len(controls) <= 2:
        raise ValueError(f"explore takes one or two controls, got {len(controls)}")
    labels = {} if labels is None else dict(labels)
    start = {} if start is None else dict(start)
    for arg, given in (("labels", labels), ("start", start)):
        unknown = sorted(set(given) - set(controls))
        if unknown:
            raise ValueError(
                f"{arg}: {unknown} are not controls of this widget (controls: {list(controls)})"
            )
    names = list(controls)
    sliders = [
        _control(name, values, labels.get(name), start.get(name))
        for name, values in controls.items()
    ]
    options = [[v for _, v in s.options] for s in sliders]
    n_frames = 1
    for opts in options:
        n_frames *= len(opts)
    if n_frames > MAX_FRAMES:
        raise ValueError(
            f"explore: {n_frames} frames is more than {MAX_FRAMES}; use fewer control values"
        )
    layout = _frame_layout()
    if len(sliders) == 1:
        stack = widgets.Stack([_frame(draw(**{names[0]: v}), layout) for v in options[0]])
        stack.selected_index = sliders[0].index
        widgets.jslink((sliders[0], "index"), (stack, "selected_index"))
    else:
        inner = []
        for v0 in options[0]:
            frames = [_frame(draw(**{names[0]: v0, names[1]: v1}), layout) for v1 in options[1]]
            child = widgets.Stack(frames, selected_index=sliders[1].index)
            widgets.jslink((sliders[1], "index"), (child, "selected_index"))
            inner.append(child)
        stack = widgets.Stack(inner, selected_index=sliders[0].index)
        widgets.jslink((sliders[0], "index"), (stack, "selected_index"))
    frame_bytes = _size(stack)
    if frame_bytes > MAX_FRAME_BYTES:
        raise ValueError(
            f"explore: the {n_frames} frames take {frame_bytes / 1e6:.1f} MB, more than "
            f"{MAX_FRAME_BYTES / 1e6:.1f} MB for one widget; use fewer control values or "
            "smaller figures"
        )
    box = widgets.VBox([widgets.HBox(sliders, layout=widgets.Layout(flex_flow="row wrap")), stack])
    box.add_class("nnlib-explore")
    return box


def frames(widget):
    """The frame widgets (Image or HTML) of an :func:`explore` widget, in order."""
    if isinstance(widget, widgets.VBox):  # controls, then the stack of frames
        return frames(widget.children[1])
    if isinstance(widget, widgets.Stack):
        return [f for child in widget.children for f in frames(child)]
    return [widget]


def _size(widget):
    """Bytes of image and HTML data in a frame or a Stack of frames."""
    return sum(len(f.value) for f in frames(widget))


class Number:
    """A number as the text shows it: its repr is the number written with a format spec.

    The chapters' text shows computed numbers as MyST inline expressions, ``{eval}`w_2f```,
    which the book build (myst-nb) and JupyterLab (jupyterlab-myst) both evaluate in the
    notebook's kernel and show as the value's plain-text form: for a ``Number`` that is the
    formatted number itself (no quotes, unlike a ``str``).

    The spec is Python's format mini-language (``".2f"``, ``".1e"``, ``"g"``; ``""`` writes
    the value as ``str`` does), applied as myst-nb's ``{glue:text}`` applied it: an integer
    type (``d``) first makes the value an ``int``, a float type (``f``, ``e``, ``g``, ``%``)
    a ``float``.
    """

    def __init__(self, value, spec=""):
        self.value = value
        self.spec = spec
        self.text = _format_number(value, spec)

    def __repr__(self):
        return self.text

    def __str__(self):
        return self.text


def _format_number(value, spec):
    if spec == "":
        return str(value)
    kind = spec[-1]
    try:
        if kind in "bcdoxX":
            value = int(value)
        elif kind in "eEfFgGn%":
            value = float(value)
        return format(value, spec)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"cannot write {value!r} with the format spec {spec!r}: {exc}") from None


class TextNumbers:
    """``glue_number(name, value)`` for chapters whose text shows numbers as ``{eval}``.

    Args:
        namespace: where the text's variables go: the notebook's ``globals()``.
        formats: ``{name: [format spec, ...]}``, the ways the text writes each kept number.

    Calling it keeps ``value`` as one variable per format, named by :meth:`variable`
    (``("ch1_w", ".2f")`` gives ``ch1_w_2f``), each a :class:`Number`. A name the text does
    not show is ignored. ``scripts/convert_glue.py`` writes the formats from the text.
    """

    def __init__(self, namespace, formats):
        if not isinstance(namespace, dict):
            raise ValueError(f"namespace: expected globals() (a dict), got {type(namespace)}")
        self.namespace = namespace
        self.formats = {}
        for name, specs in dict(formats).items():
            specs = [specs] if isinstance(specs, str) else list(specs)
            for spec in specs:
                self.variable(name, spec)  # checks that the spec can be part of a name
            self.formats[name] = specs

    @staticmethod
    def variable(name, spec):
        """The variable that holds ``name`` written with ``spec``: ``ch1_w`` + ``_2f``."""
        base = re.sub(r"[^a-zA-Z0-9_]", "_", str(name))
        if not re.match(r"[a-zA-Z]", base):
            base = "n_" + base
        marks = {".": "", "+": "p", "-": "m", "%": "pct", ",": "c", " ": "s"}
        suffix = ""
        for ch in spec:
            if ch.isalnum() or ch == "_":
                suffix += ch
            elif ch in marks:
                suffix += marks[ch]
            else:
                raise ValueError(f"the format spec {spec!r} cannot be part of a variable name")
        return f"{base}_{suffix}" if suffix else base

    def __call__(self, name, value):
        for spec in self.formats.get(name, ()):
            self.namespace[self.variable(name, spec)] = Number(value, spec)


def grid(**controls):
    """All combinations of the controls' values, as dicts (for precomputing in a loop)."""
    names = list(controls)
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*controls.values())]


use_book_style()
