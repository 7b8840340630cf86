"""Controls for the chapters: sliders that change a plot, alive with or without a kernel.

:func:`explore` draws a figure for every position of one or two controls ahead of time and
shows them as PNG frames in an ``ipywidgets.Stack``; the control is tied to the stack's
``selected_index`` with ``ipywidgets.jslink``, which runs in the browser. The same widget
therefore responds in Jupyter or Binder (with a kernel) and in the static online book (no
kernel): one code path for both.
"""

import io
import itertools

import ipywidgets as widgets
import matplotlib
import matplotlib.pyplot as plt

MAX_FRAMES = 200
# The frames are embedded in the chapter's page (base64, about 4/3 of their size) and a
# chapter must stay under 3 MB: one widget may hold at most this many bytes of frames.
MAX_FRAME_BYTES = 1_500_000


def figure_png(fig, dpi=72, colors=128):
    """A matplotlib figure as PNG bytes, palette-quantized to keep frames small; closes it."""
    from PIL import Image

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    plt.close(fig)
    buf.seek(0)
    img = Image.open(buf).convert("RGB").quantize(colors=colors, method=Image.Quantize.MEDIANCUT)
    out = io.BytesIO()
    img.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _frame(result):
    """A widget for what a draw function returned: a Figure (as an image) or HTML text."""
    if isinstance(result, matplotlib.figure.Figure):
        return widgets.Image(value=figure_png(result), format="png")
    if isinstance(result, str):
        return widgets.HTML(value=result)
    raise ValueError(
        f"draw must return a matplotlib Figure or an HTML string, got {type(result).__name__}"
    )


def _control(name, values):
    """A SelectionSlider for numbers, a Dropdown for words."""
    if isinstance(values, dict):
        options = list(values.items())
    else:
        options = [(_label(v), v) for v in values]
    if not options:
        raise ValueError(f"control {name!r}: expected at least one value")
    if all(isinstance(v, int | float) for _, v in options):
        return widgets.SelectionSlider(
            options=options,
            value=options[len(options) // 2][1],
            description=name,
            continuous_update=True,
            style={"description_width": "initial"},
            layout=widgets.Layout(width="420px"),
        )
    return widgets.Dropdown(options=options, value=options[0][1], description=name)


def _label(v):
    return f"{v:.3g}" if isinstance(v, float) else str(v)


def explore(draw, **controls):
    """A widget showing ``draw(**values)`` for every combination of the controls' values.

    Args:
        draw: a function of keyword arguments, one per control, returning a matplotlib Figure
            (or an HTML string, for numbers and tables).
        **controls: ``name=[values]`` (a slider for numbers, a dropdown otherwise) or
            ``name={label: value}``. One or two controls.

    Example:
        >>> explore(lambda w: plot_line(w), w=[0.0, 0.5, 1.0])  # doctest: +SKIP
    """
    if not 1 <= len(controls) <= 2:
        raise ValueError(f"explore takes one or two controls, got {len(controls)}")
    names = list(controls)
    sliders = [_control(name, values) for name, values in controls.items()]
    options = [[v for _, v in s.options] for s in sliders]
    n_frames = 1
    for opts in options:
        n_frames *= len(opts)
    if n_frames > MAX_FRAMES:
        raise ValueError(
            f"explore: {n_frames} frames is more than {MAX_FRAMES}; use fewer control values"
        )
    if len(sliders) == 1:
        stack = widgets.Stack([_frame(draw(**{names[0]: v})) for v in options[0]])
        stack.selected_index = sliders[0].index
        widgets.jslink((sliders[0], "index"), (stack, "selected_index"))
    else:
        inner = []
        for v0 in options[0]:
            frames = [_frame(draw(**{names[0]: v0, names[1]: v1})) for v1 in options[1]]
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
    box = widgets.VBox([widgets.HBox(sliders), stack])
    box.add_class("nnlib-explore")
    return box


def _size(widget):
    """Bytes of image and HTML data in a frame or a Stack of frames."""
    if isinstance(widget, widgets.Stack):
        return sum(_size(child) for child in widget.children)
    return len(widget.value)


def grid(**controls):
    """All combinations of the controls' values, as dicts (for precomputing in a loop)."""
    names = list(controls)
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*controls.values())]
