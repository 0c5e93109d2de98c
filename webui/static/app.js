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
