// Loaded between require.js and the ipywidgets HTML manager (embed-amd.js), on pages with widgets.
(function () {
  // 1. The manager finds its font files (the widgets' icons) next to its AMD module's URL;
  // without this mapping require.js places that module beside the page and the fonts 404.
  // Point the module at the copy the site serves.
  var dist = new URL("nnlib-vendor/html-manager", document.currentScript.src).href;
  window.require.config({ paths: { "@jupyter-widgets/html-manager/dist": dist } });

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
