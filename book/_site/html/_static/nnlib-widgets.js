// Loaded between require.js and the ipywidgets HTML manager (embed-amd.js), on pages with widgets.
(function () {
  // 1. The bundled widget modules find their font files (the widgets' icons, e.g. the Play
  // button's) next to their AMD module's URL; by default require.js places those modules beside
  // the page and the fonts 404. Map them all onto the folder that holds embed-amd.js and the fonts.
  var dist = new URL("nnlib-vendor/html-manager", document.currentScript.src).href;
  window.require.config({
    paths: {
      "@jupyter-widgets/html-manager/dist": dist,
      "@jupyter-widgets": dist,
    },
  });

  // 2. Widgets typeset their labels with MathJax 2's MathJax.Hub.Queue whenever window.MathJax
  // exists; the book uses MathJax 3, which has no Hub (TypeError in the console). Give every
  // object that becomes window.MathJax (Sphinx's configuration, then MathJax 3 itself) a small
  // Hub that hands the element to MathJax 3's typesetPromise.
  function withHub(mj) {
    if (mj && typeof mj === "object" && !mj.Hub) {
      mj.Hub = {
        Queue: function () {
          for (var i = 0; i < arguments.length; i++) {
            var job = arguments[i];
            var m = window.MathJax;
            if (Array.isArray(job) && job[0] === "Typeset" && m && m.typesetPromise) {
              m.typesetPromise([job[2]]).catch(function () {});
            }
          }
        },
      };
    }
    return mj;
  }
  var current = withHub(window.MathJax);
  Object.defineProperty(window, "MathJax", {
    configurable: true,
    enumerable: true,
    get: function () {
      return current;
    },
    set: function (value) {
      current = withHub(value);
    },
  });
})();
