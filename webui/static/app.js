// Progressive enhancements; every page works without them.
(function () {
  "use strict";

  // Search page, narrow screens: the facets fold behind a "Filters" button above the results.
  var toggle = document.getElementById("filters-toggle");
  var facets = document.getElementById("facets");
  if (toggle && facets) {
    var narrow = window.matchMedia("(max-width: 760px)");
    var set = function (open) {
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      facets.classList.toggle("collapsed", !open);
    };
    var layout = function () {
      toggle.hidden = !narrow.matches;
      // A date the reader must correct keeps the filters open.
      set(!narrow.matches || !!facets.querySelector("[aria-invalid=true]"));
    };
    toggle.addEventListener("click", function () {
      set(toggle.getAttribute("aria-expanded") !== "true");
    });
    if (narrow.addEventListener) { narrow.addEventListener("change", layout); }
    layout();
  }

  // Reading view: keys n / p move between the marked matches (anchors work without this).
  var marks = Array.prototype.slice.call(document.querySelectorAll(".reading mark[id]"));
  marks.forEach(function (m) { m.tabIndex = -1; });
  if (!marks.length) { return; }
  var current = -1;
  var landing = null;  // the first match at or after the paragraph the reader landed on
  var fromMark = /^#m(\d+)$/.exec(location.hash);
  var fromPara = /^#p(\d+)$/.exec(location.hash);
  if (fromMark) {
    current = parseInt(fromMark[1], 10) - 1;
  } else if (fromPara) {
    // Landing on a paragraph: n goes to its first match (or the next after it), p to the one before.
    var block = document.getElementById("p" + fromPara[1]);
    if (block) {
      landing = marks.findIndex(function (m) {
        return block.contains(m) || (block.compareDocumentPosition(m) & Node.DOCUMENT_POSITION_FOLLOWING);
      });
      if (landing < 0) { landing = marks.length; }
    }
  }
  function go(i) {
    if (current >= 0 && marks[current]) { marks[current].classList.remove("current"); }
    current = (i + marks.length) % marks.length;
    marks[current].classList.add("current");
    marks[current].scrollIntoView({ block: "center" });
    marks[current].focus({ preventScroll: true });
  }
  document.addEventListener("keydown", function (e) {
    if (e.altKey || e.ctrlKey || e.metaKey) { return; }
    if (e.target.closest && e.target.closest("input, textarea, select")) { return; }
    if (e.key !== "n" && e.key !== "p") { return; }
    var step = e.key === "n" ? 1 : -1;
    if (landing !== null) {
      go(step > 0 ? landing : landing - 1);
      landing = null;
    } else {
      go(current + step);
    }
  });
})();
