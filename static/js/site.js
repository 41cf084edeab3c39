/* Site-wide behaviour without inline handlers (the CSP allows scripts from this origin only). */
(function () {
  "use strict";
  var select = document.getElementById("language-select");
  if (select) select.addEventListener("change", function () { select.form.submit(); });
})();
