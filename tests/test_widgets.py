"""nnlib.widgets: the chapters' precomputed controls, their frames and the book's style."""

import io

import ipywidgets
import matplotlib
import matplotlib.pyplot as plt
import pytest
from PIL import Image

from nnlib import widgets
from nnlib.widgets import explore, frames


def _figure(w):
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot([0, 1], [0, w])
    ax.set_title(f"w = {w}")
    return fig


def _sliders(box):
    return list(box.children[0].children)


def test_one_control_makes_one_frame_per_value():
    box = explore(_figure, w=[0.0, 0.5, 1.0])
    assert "nnlib-explore" in box._dom_classes
    assert len(frames(box)) == 3
    assert all(isinstance(f, ipywidgets.Image) for f in frames(box))
    (slider,) = _sliders(box)
    assert isinstance(slider, ipywidgets.SelectionSlider)
    assert box.children[1].selected_index == slider.index == 1  # opens on the middle value


def test_two_controls_make_a_stack_of_stacks():
    box = explore(lambda a, b: f"<b>{a} {b}</b>", a=[1, 2], b=["x", "y", "z"])
    assert len(frames(box)) == 6
    outer = box.children[1]
    assert [len(child.children) for child in outer.children] == [3, 3]
    assert frames(box)[4].value == "<b>2 y</b>"
    slider, dropdown = _sliders(box)
    assert isinstance(dropdown, ipywidgets.Dropdown) and dropdown.value == "x"


def test_frames_are_drawn_at_twice_the_size_they_are_shown_at():
    (frame,) = frames(explore(_figure, w=[1.0]))
    assert frame.format == "webp"
    shown = (int(frame.width), int(frame.height))
    assert shown == (6 * 72, round(3.5 * 72))
    drawn = Image.open(io.BytesIO(frame.value)).size
    assert drawn == (2 * shown[0], 2 * shown[1])
    assert frame.layout.max_width == "100%"


def test_figure_frames_are_closed():
    before = len(plt.get_fignums())
    explore(_figure, w=[0.0, 1.0])
    assert len(plt.get_fignums()) == before


def test_text_alternative_of_an_image_frame_is_its_tooltip():
    box = explore(lambda w: (_figure(w), f"A line of slope {w}."), w=[0.0, 2.0])
    assert [f.tooltip for f in frames(box)] == ["A line of slope 0.0.", "A line of slope 2.0."]
    # ipywidgets' JavaScript reads the description of a widget with a tooltip: without one
    # (an Image has none) the frame's view fails to render
    assert all(f.get_state()["description"] == "" for f in frames(box))


def test_text_alternative_of_an_html_frame_is_labelled_in_the_page():
    box = explore(lambda n: (f"<table><tr><td>{n}</td></tr></table>", f"{n} & <more>"), n=[1])
    (frame,) = frames(box)
    assert frame.tooltip == "1 & <more>"
    assert 'aria-label="1 &amp; &lt;more&gt;"' in frame.value
    assert "<td>1</td>" in frame.value


def test_frames_without_text_alternative_still_work():
    (frame,) = frames(explore(_figure, w=[1.0]))
    assert frame.tooltip is None


def test_labels_are_the_visible_descriptions():
    box = explore(
        lambda theta, act: "x",
        labels={"theta": "direction of w (degrees)"},
        theta=[0, 90],
        act=["relu", "tanh"],
    )
    slider, dropdown = _sliders(box)
    assert slider.description == "direction of w (degrees)"
    assert dropdown.description == "act"  # no label given: the name


def test_start_sets_the_opening_frame():
    box = explore(
        lambda a, b: f"{a}{b}", start={"a": 3, "b": "z"}, a=[1, 2, 3, 4], b=["x", "y", "z"]
    )
    slider, dropdown = _sliders(box)
    assert slider.value == 3 and slider.index == 2
    assert dropdown.value == "z" and dropdown.index == 2
    outer = box.children[1]
    assert outer.selected_index == 2
    assert all(child.selected_index == 2 for child in outer.children)


def test_start_with_a_dict_of_labelled_values():
    box = explore(lambda rate: str(rate), start={"rate": 0.1}, rate={"slow": 0.01, "fast": 0.1})
    (slider,) = _sliders(box)
    assert slider.value == 0.1 and slider.label == "fast"


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"start": {"w": 7.0}}, "start['w']: 7.0 is not one of the control's values"),
        ({"start": {"v": 1.0}}, "start: ['v'] are not controls"),
        ({"labels": {"v": "x"}}, "labels: ['v'] are not controls"),
    ],
)
def test_bad_labels_or_start_are_named(kwargs, words):
    with pytest.raises(ValueError, match=words.replace("[", r"\[").replace("(", r"\(")):
        explore(_figure, w=[0.0, 1.0], **kwargs)


@pytest.mark.parametrize(
    ("result", "words"),
    [
        (42, "draw must return a matplotlib Figure, an HTML string or a tuple"),
        (("<b>x</b>", 3), "second item is not a str"),
        (("<b>x</b>", "a", "b"), "got a tuple of 3 items"),
    ],
)
def test_bad_draw_results_are_named(result, words):
    with pytest.raises(ValueError, match=words):
        explore(lambda w: result, w=[1.0])


def test_number_of_controls_and_frames_is_checked():
    with pytest.raises(ValueError, match="one or two controls, got 3"):
        explore(lambda a, b, c: "", a=[1], b=[1], c=[1])
    with pytest.raises(ValueError, match="more than 200"):
        explore(lambda a, b: "", a=list(range(15)), b=list(range(15)))
    with pytest.raises(ValueError, match="control 'a': expected at least one value"):
        explore(lambda a: "", a=[])


def test_too_many_frame_bytes_are_refused(monkeypatch):
    monkeypatch.setattr(widgets, "MAX_FRAME_BYTES", 10)
    with pytest.raises(ValueError, match="more than 0.0 MB for one widget"):
        explore(lambda a: "x" * 20, a=[1])


def test_slider_labels_never_round_to_another_value():
    box = explore(lambda beta2: "", beta2=[0.9, 0.99, 0.999, 0.9999])
    (slider,) = _sliders(box)
    assert [label for label, _ in slider.options] == ["0.9", "0.99", "0.999", "0.9999"]
    assert widgets._label(0.25) == "0.25"
    # 0.1 + 0.2 is not the float 0.3: a label "0.3" would show another value
    assert widgets._label(0.1 + 0.2) == "0.30000000000000004"


def test_numpy_numbers_make_a_slider():
    import numpy as np

    box = explore(lambda n: "", n=np.arange(3))
    assert isinstance(_sliders(box)[0], ipywidgets.SelectionSlider)


def test_book_style_is_colour_blind_safe_and_readable():
    widgets.use_book_style()
    colors = matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]
    assert colors[:3] == ["#0072B2", "#E69F00", "#009E73"]
    assert matplotlib.rcParams["image.cmap"] == "cividis"
    assert matplotlib.rcParams["legend.fontsize"] >= 8


def test_class_markers_give_each_class_a_marker_and_a_label():
    import numpy as np

    fig, ax = plt.subplots()
    X = np.array([[0.0, 1.0, 2.0], [0.0, 1.0, 0.0]])
    widgets.class_markers(ax, X, [0, 1, 0], labels={0: "blue", 1: "red"})
    collections = ax.collections
    assert len(collections) == 2
    assert [c.get_label() for c in collections] == ["blue", "red"]
    paths = [c.get_paths()[0].vertices.shape for c in collections]
    assert paths[0] != paths[1]  # different markers, not only different colours
    with pytest.raises(ValueError, match=r"X: expected the points as columns, shape \(2, m\)"):
        widgets.class_markers(ax, X.T, [0, 1, 0])
    with pytest.raises(ValueError, match="y: expected 3 class labels"):
        widgets.class_markers(ax, X, [0, 1])
    plt.close(fig)


@pytest.mark.parametrize(
    ("value", "spec", "text"),
    [
        (0.123456, ".2f", "0.12"),
        (3, ".1f", "3.0"),  # a float format makes the value a float, as {glue:text} did
        (2.0, ".0f", "2"),
        (7.9, "d", "7"),  # an integer format makes it an int
        (1e-6, ".1e", "1.0e-06"),
        (0.5, "", "0.5"),
        (40, "", "40"),
        (float("nan"), ".3f", "nan"),
        (-0.00002, "+.5f", "-0.00002"),
    ],
)
def test_number_shows_the_formatted_text_without_quotes(value, spec, text):
    number = widgets.Number(value, spec)
    assert repr(number) == str(number) == text
    from IPython.core.formatters import PlainTextFormatter

    assert PlainTextFormatter()(number) == text  # what the kernel sends for {eval}


def test_number_that_cannot_take_the_format_is_refused():
    with pytest.raises(ValueError, match="cannot write 'abc' with the format spec '.2f'"):
        widgets.Number("abc", ".2f")


def test_text_numbers_keep_one_variable_per_format():
    namespace = {}
    glue_number = widgets.TextNumbers(namespace, {"w": [".2f", ".4f"], "ch3_nlog_1e-06": [".1f"]})
    glue_number("w", 0.123456)
    glue_number("ch3_nlog_1e-06", 13.8155)
    glue_number("not_in_the_text", 1.0)
    assert sorted(namespace) == ["ch3_nlog_1e_06_1f", "w_2f", "w_4f"]
    assert repr(namespace["w_4f"]) == "0.1235"
    assert widgets.TextNumbers.variable("x", "+.5f") == "x_p5f"
    assert widgets.TextNumbers.variable("1x", "") == "n_1x"
    with pytest.raises(ValueError, match="cannot be part of a variable name"):
        widgets.TextNumbers({}, {"w": [">{.2f"]})
    with pytest.raises(ValueError, match=r"namespace: expected globals\(\)"):
        widgets.TextNumbers([], {})
