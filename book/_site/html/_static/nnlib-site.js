// Site script of the online book (loaded on every page, before the theme's deferred scripts).
// The theme's Font Awesome replaces <i> icons with <svg> elements, which breaks ipywidgets
// that keep a handle on their <i> icon (the Play button). "nest" puts the <svg> inside the <i>
// instead, so the widgets keep working.
window.FontAwesomeConfig = Object.assign(window.FontAwesomeConfig || {}, {
  autoReplaceSvg: "nest",
});

// The theme starts from the reader's saved colour mode or "", and logs a console error for ""
// before falling back to "auto". Start from "auto" directly (same result, no error).
if (!document.documentElement.dataset.mode) {
  document.documentElement.dataset.mode = "auto";
}
