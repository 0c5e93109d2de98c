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

// Timeline: drag across bars (or Shift+click / Shift+Enter a second bar) to select a range.
// Without JavaScript each bar is a link selecting its period, and the date form is there.
(function () {
  "use strict";
  var bars = Array.prototype.slice.call(document.querySelectorAll(".timeline a[data-from]"));
  if (!bars.length) { return; }
  var anchor = null, moved = false;
  var selected = bars.filter(function (b) { return b.classList.contains("selected"); });
  if (selected.length) { anchor = selected[0]; }
  function go(a, b) {
    var i = bars.indexOf(a), j = bars.indexOf(b);
    var first = bars[Math.min(i, j)], last = bars[Math.max(i, j)];
    var url = new URL(location.href);
    url.searchParams.set("from", first.getAttribute("data-from"));
    url.searchParams.set("to", last.getAttribute("data-to"));
    url.searchParams.delete("page");
    location.href = url.toString();
  }
  function mark(a, b) {
    var i = bars.indexOf(a), j = bars.indexOf(b);
    bars.forEach(function (bar, k) {
      bar.classList.toggle("dragging", k >= Math.min(i, j) && k <= Math.max(i, j));
    });
  }
  var start = null;
  bars.forEach(function (bar) {
    bar.addEventListener("mousedown", function (e) { e.preventDefault(); start = bar; moved = false; });
    bar.addEventListener("mouseenter", function () { if (start) { moved = moved || bar !== start; mark(start, bar); } });
    bar.addEventListener("click", function (e) {
      if (moved) { e.preventDefault(); return; }
      if (e.shiftKey && anchor) { e.preventDefault(); go(anchor, bar); }
    });
    bar.addEventListener("keydown", function (e) {
      if (e.key === "Enter" && e.shiftKey && anchor) { e.preventDefault(); go(anchor, bar); }
    });
  });
  document.addEventListener("mouseup", function (e) {
    if (!start) { return; }
    var end = e.target.closest ? e.target.closest(".timeline a[data-from]") : null;
    if (end && moved) { go(start, end); }
    start = null;
  });
})();
