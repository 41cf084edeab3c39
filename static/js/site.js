/* Site-wide behaviour without inline handlers (the CSP allows scripts from this origin only). */
(function () {
  "use strict";
  var select = document.getElementById("language-select");
  if (select) select.addEventListener("change", function () { select.form.submit(); });
})();
/* Profile: offer the device's own time zone when it differs from the saved one. */
(function () {
  "use strict";
  var select = document.getElementById("id_time_zone");
  var tpl = document.getElementById("tz-i18n");
  if (!select || !tpl || !window.Intl) return;
  var zone;
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return; }
  var option = Array.prototype.find.call(select.options, function (o) { return o.value === zone; });
  if (!option || option.selected) return;
  var button = document.createElement("button");
  button.type = "button";
  button.className = "link-button dark tz-suggest";
  button.textContent = tpl.content.querySelector("[data-key=useBrowser]").textContent + ": " + option.textContent;
  button.addEventListener("click", function () { select.value = zone; button.remove(); select.focus(); });
  select.insertAdjacentElement("afterend", button);
})();
