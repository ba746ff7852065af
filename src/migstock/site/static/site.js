// migstock site: draws the Vega-Lite charts embedded in the page (vendored Vega bundle,
// no request off the machine), wires the sex selectors, the tile colouring and the picker.
(function () {
  "use strict";
  const rtl = document.documentElement.dir === "rtl";

  function drawCharts() {
    if (typeof vegaEmbed !== "function") return;
    document.querySelectorAll("[data-spec]").forEach(function (holder) {
      const spec = JSON.parse(document.getElementById(holder.dataset.spec).textContent);
      vegaEmbed(holder, spec, { actions: false, renderer: "svg", tooltip: { theme: "light" } })
        .then(function (result) {
          holder.dataset.drawn = "true";
          const figure = holder.closest("figure");
          const selector = figure && figure.querySelector("fieldset.sex");
          if (!selector) return;
          selector.addEventListener("change", function (event) {
            result.view.signal("sex", event.target.value).runAsync().then(function () {
              holder.dataset.sex = event.target.value;
            });
          });
        })
        .catch(function (error) { console.error(error); });
    });
  }

  function tiles() {
    const grid = document.getElementById("tiles");
    const choice = document.querySelector("fieldset.metric");
    if (!grid || !choice) return;
    choice.addEventListener("change", function (event) { grid.dataset.metric = event.target.value; });
  }

  function picker() {
    document.querySelectorAll("form[data-picker]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        window.location.href = form.querySelector("select").value;
      });
    });
  }

  drawCharts();
  tiles();
  picker();
  document.documentElement.dataset.ready = rtl ? "rtl" : "ltr";
})();
