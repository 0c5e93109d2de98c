// Reading view: keys n / p move between the marked matches (anchors work without this).
(function () {
  "use strict";
  var marks = Array.prototype.slice.call(document.querySelectorAll(".reading mark[id]"));
  marks.forEach(function (m) { m.tabIndex = -1; });
  if (!marks.length) { return; }
  var current = -1;
  var fromHash = /^#m(\d+)$/.exec(location.hash);
  if (fromHash) { current = parseInt(fromHash[1], 10) - 1; }
  function go(i) {
    if (current >= 0 && marks[current]) { marks[current].classList.remove("current"); }
    current = (i + marks.length) % marks.length;
    marks[current].classList.add("current");
    marks[current].scrollIntoView({ block: "center" });
    marks[current].focus({ preventScroll: true });
  }
  document.addEventListener("keydown", function (e) {
    if (e.target.closest && e.target.closest("input, textarea")) { return; }
    if (e.key === "n") { go(current + 1); } else if (e.key === "p") { go(current - 1); }
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
