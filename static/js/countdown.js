/* Live expiry countdown for <time data-countdown datetime="…">. */
(function () {
  "use strict";
  var words = {};
  var tpl = document.getElementById("countdown-i18n");
  if (tpl) tpl.content.querySelectorAll("[data-key]").forEach(function (el) { words[el.dataset.key] = el.textContent; });
  var nodes = document.querySelectorAll("time[data-countdown]");
  function pad(n) { return n < 10 ? "0" + n : String(n); }
  function tick() {
    var now = Date.now();
    nodes.forEach(function (node) {
      if (!node.dataset.absolute) node.dataset.absolute = node.textContent;
      var left = Math.floor((Date.parse(node.getAttribute("datetime")) - now) / 1000);
      if (left <= 0) { node.textContent = words.expired || "—"; return; }
      var d = Math.floor(left / 86400), h = Math.floor((left % 86400) / 3600);
      var m = Math.floor((left % 3600) / 60), s = left % 60;
      node.textContent = (words.left || "") + " " + (d ? d + "d " : "") + pad(h) + ":" + pad(m) + ":" + pad(s);
      node.title = node.dataset.absolute;
    });
  }
  if (nodes.length) { tick(); setInterval(tick, 1000); }
})();
