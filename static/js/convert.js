/* Convert page: drag and drop, detected types, valid targets, upload progress, job polling. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  var form = document.getElementById("convert-form");
  if (!form) return;
  var config = JSON.parse(form.dataset.config);
  var input = document.getElementById("id_file");
  var dropzone = document.getElementById("dropzone");
  var fileList = document.getElementById("file-list");
  var target = document.getElementById("id_target_format");
  var quality = document.getElementById("id_quality");
  var errorBox = document.getElementById("form-error");
  var button = document.getElementById("convert-button");
  var progressBlock = document.getElementById("upload-progress");
  var uploadBar = document.getElementById("upload-bar");
  var uploadText = document.getElementById("upload-text");
  var results = document.getElementById("results");
  var resultList = document.getElementById("result-list");
  var zipLink = document.getElementById("zip-link");
  var t = {};
  document.querySelectorAll("#i18n").forEach(function (tpl) {
    tpl.content.querySelectorAll("[data-key]").forEach(function (el) { t[el.dataset.key] = el.textContent; });
  });
  var allTargets = Array.prototype.map.call(target.options, function (o) { return o.value; });
  var files = [];
  var detected = [];
  var lang = document.documentElement.lang || "es";
  var money = new Intl.NumberFormat(lang, { style: "currency", currency: "EUR" });
  var percent = new Intl.NumberFormat(lang, { style: "percent" });

  // 1,8 MB / 856 kB / 80 B in the page's locale (Intl's "byte" unit reads "80 byte").
  function formatSize(bytes) {
    if (bytes < 1024) return new Intl.NumberFormat(lang).format(bytes) + "\u00a0B";
    var unit = bytes >= 1048576 ? "megabyte" : "kilobyte";
    var value = bytes / (unit === "megabyte" ? 1048576 : 1024);
    return new Intl.NumberFormat(lang, { style: "unit", unit: unit, unitDisplay: "short",
                                         maximumFractionDigits: 1 }).format(value);
  }
  var HISTORY = "anclora.results";
  // What a file is: the server's own detection on its first 64 KiB (POST /api/conversion/detect), so
  // the rules live in one place; the upload is still checked in full. Unreachable: unknown.
  function detect(file) {
    var body = new FormData();
    body.append("head", file.slice(0, 65536), "head");
    body.append("name", file.name);
    return fetch("/api/conversion/detect", { method: "POST", body: body, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .catch(function () { return null; });
  }

  function showError(message) {
    errorBox.textContent = message || "";
    errorBox.hidden = !message;
  }

  // The target picker: only targets valid for every chosen file, grouped by family, filtered by the
  // search box, and the last choice remembered (localStorage) for the next visit.
  var search = document.getElementById("target-search");
  var REMEMBER = "anclora.lastTarget";
  function remembered() { try { return window.localStorage.getItem(REMEMBER); } catch (e) { return null; } }
  function remember(fmt) { try { window.localStorage.setItem(REMEMBER, fmt); } catch (e) { /* private mode */ } }

  function refreshTargets() {
    var common = null;
    detected.forEach(function (fmt) {
      var options = (fmt && config.targets[fmt]) || [];
      common = common === null ? options.slice() : common.filter(function (x) { return options.indexOf(x) !== -1; });
    });
    var allowed = common === null ? allTargets : common;
    var query = search ? search.value.trim().toLowerCase().replace(/^\./, "") : "";
    var shown = query ? allowed.filter(function (fmt) { return fmt.indexOf(query) !== -1; }) : allowed;
    if (!shown.length) shown = allowed;
    var current = target.value || remembered();
    target.innerHTML = "";
    var families = config.categories || {};
    var placed = {};
    Object.keys(families).forEach(function (family) {
      var members = shown.filter(function (fmt) { return families[family].indexOf(fmt) !== -1 && !placed[fmt]; });
      if (!members.length) return;
      var group = document.createElement("optgroup");
      group.label = t["family_" + family] || family;
      members.forEach(function (fmt) {
        placed[fmt] = true;
        var opt = document.createElement("option");
        opt.value = fmt; opt.textContent = fmt.toUpperCase();
        group.appendChild(opt);
      });
      target.appendChild(group);
    });
    shown.filter(function (fmt) { return !placed[fmt]; }).forEach(function (fmt) {
      var opt = document.createElement("option");
      opt.value = fmt; opt.textContent = fmt.toUpperCase();
      target.appendChild(opt);
    });
    if (shown.indexOf(current) !== -1) target.value = current;
    else if (query && shown.length) target.value = shown[0];
    button.disabled = files.length > 0 && allowed.length === 0;
    showError(files.length > 0 && allowed.length === 0 ? t.noTargets : "");
  }
  if (search) {
    search.hidden = false;
    search.addEventListener("input", function () {
      var before = target.value;
      refreshTargets();
      if (target.value !== before) target.dispatchEvent(new Event("change"));
    });
  }
  target.addEventListener("change", function () { remember(target.value); });
  function initialTarget() {
    var before = target.value;
    var last = remembered();
    if (last && allTargets.indexOf(last) !== -1) target.value = last;
    refreshTargets();
    if (target.value !== before) target.dispatchEvent(new Event("change"));
  }

  function setFiles(list) {
    files = Array.prototype.slice.call(list);
    fileList.innerHTML = "";
    Promise.all(files.map(detect)).then(function (results) {
      detected = results.map(function (result) { return result && result.format; });
      files.forEach(function (file, i) {
        var li = document.createElement("li");
        var mb = file.size / (1024 * 1024);
        // "No se pudo identificar el tipo de archivo." (or why it is not converted) in words
        var label = detected[i] ? detected[i].toUpperCase() : ((results[i] && results[i].message) || t.unknown);
        li.textContent = file.name + " — " + formatSize(file.size) + " — " + t.detected + ": " + label;
        if (!detected[i] || mb > config.maxSizeMb) {
          var bad = document.createElement("span");
          bad.className = "bad";
          bad.textContent = !detected[i] ? "" : t.tooBig;
          li.appendChild(bad);
        }
        fileList.appendChild(li);
      });
      refreshTargets();
      updatePrice();
    });
  }

  // --- live price and "what pays" (billing) ---------------------------------------
  var priceBox = document.getElementById("price-box");
  var priceValue = document.getElementById("price-value");
  var whatPays = document.getElementById("what-pays");
  var useCredit = document.getElementById("id_use_credit");
  var txInput = document.getElementById("id_transaction_id");
  var checkout = document.getElementById("checkout-step");
  var entitlement = null;
  var priceSeq = 0;

  function apiHeaders(json) {
    var h = { "X-CSRFToken": csrfToken() };
    if (json) h["Content-Type"] = "application/json";
    if (config.sessionId) h["X-Session-Id"] = config.sessionId;
    return h;
  }
  function fmt(template, n) { return template.replace("%(n)s", n); }

  function loadEntitlement() {
    return fetch("/api/payments/entitlement", { headers: apiHeaders(false), credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (body) { entitlement = body; renderWhatPays(); })
      .catch(function () {});
  }

  // What pays each file (the server's own rules: POST /api/payments/quote) and the amount due.
  var quote = null;
  var quoteSeq = 0;

  function loadQuote() {
    var ready = files.map(function (f, i) { return detected[i] ? { file: f, fmt: detected[i] } : null; })
                     .filter(Boolean);
    if (!ready.length || !target.value) { quote = null; renderWhatPays(); return Promise.resolve(null); }
    var seq = ++quoteSeq;
    return fetch("/api/payments/quote", {
      method: "POST", headers: apiHeaders(true), credentials: "same-origin",
      body: JSON.stringify({ files: ready.map(function (item) {
                               return { name: item.file.name, source_format: item.fmt, size_bytes: item.file.size };
                             }),
                             target_format: target.value, quality: quality.value,
                             use_credit: !!(useCredit && useCredit.checked) })
    }).then(function (r) { return r.ok ? r.json() : null; })
      .then(function (body) { if (seq === quoteSeq) { quote = body; renderWhatPays(); } return body; })
      .catch(function () { return null; });
  }

  function payerLabel(file) {
    if (file.paid_by === "allowance") return t.byPlan;
    if (file.paid_by === "credit") return t.byCredit;
    if (file.prepaid) return t.byEarlierPayment;
    return t.byPayment + " " + money.format(file.price);
  }

  // One line per file ("name — what pays it") and the total to pay.
  function renderFiles(container, list, due) {
    container.innerHTML = "";
    if (!list || !list.length) return;
    var ul = document.createElement("ul");
    ul.className = "what-pays-files";
    list.forEach(function (file) {
      var li = document.createElement("li");
      li.className = "pays-" + file.paid_by + (file.prepaid ? " pays-prepaid" : "");
      li.textContent = (file.name || file.source_format.toUpperCase()) + " — " + payerLabel(file);
      ul.appendChild(li);
    });
    container.appendChild(ul);
    var total = document.createElement("p");
    total.className = "what-pays-total";
    total.textContent = t.totalDue + ": " + money.format(due || 0);
    container.appendChild(total);
  }

  function summary(list) {
    var n = list.length;
    var count = function (kind) { return list.filter(function (f) { return f.paid_by === kind; }).length; };
    var plan = count("allowance"), credit = count("credit");
    var due = list.filter(function (f) { return f.paid_by === "payment" && !f.prepaid; }).length;
    var left = entitlement ? entitlement.allowance_remaining : null;
    if (plan === n) return left === null ? t.unlimited : fmt(t.allowanceLeft, left);
    if (credit && !due) return fmt(t.paysCredit, entitlement ? entitlement.conversion_credits : credit);
    if (due === n) return n === 1 ? t.paysPayment : t.paysPaymentAll;
    if (!due) return t.coveredAll;
    return t.paysSome.replace("%(covered)s", n - due).replace("%(n)s", n);
  }

  function renderWhatPays() {
    if (!whatPays) return;
    var line = document.getElementById("what-pays-summary");
    var detail = document.getElementById("what-pays-files");
    if (quote && quote.files && quote.files.length) {
      line.textContent = summary(quote.files);
      renderFiles(detail, quote.files.length > 1 || quote.amount_due > 0 ? quote.files : [], quote.amount_due);
      return;
    }
    detail.innerHTML = "";
    if (!entitlement) return;
    var left = entitlement.allowance_remaining;
    if (left === null) line.textContent = t.unlimited;
    else if (left >= Math.max(files.length, 1)) line.textContent = fmt(t.allowanceLeft, left);
    else line.textContent = t.paysPayment;
  }

  function sizeMb(file) { return Math.max(0.01, Math.ceil(file.size / 10485.76) / 100); }

  function updatePrice() {
    if (!priceBox) return;
    var ready = files.map(function (f, i) { return detected[i] ? { file: f, fmt: detected[i] } : null; })
                     .filter(Boolean);
    if (!ready.length || !target.value) { priceBox.hidden = true; return; }
    var seq = ++priceSeq;
    loadQuote();
    Promise.all(ready.map(function (item) {
      return fetch("/api/payments/estimate", {
        method: "POST", headers: apiHeaders(true), credentials: "same-origin",
        body: JSON.stringify({ source_format: item.fmt, target_format: target.value,
                               file_size_mb: sizeMb(item.file), quality: quality.value })
      }).then(function (r) { return r.ok ? r.json() : null; });
    })).then(function (bodies) {
      if (seq !== priceSeq) return;
      var prices = bodies.filter(Boolean).map(function (b) { return b.estimated_price; });
      if (!prices.length) { priceBox.hidden = true; return; }
      // The tariff of each file; what is actually due (after plan and credits) is in #what-pays.
      priceValue.textContent = prices.map(function (p) { return money.format(p); }).join(" · ");
      priceBox.hidden = false;
      renderWhatPays();
    }).catch(function () {});
  }

  function newKey() {
    if (window.crypto && window.crypto.randomUUID) return window.crypto.randomUUID();
    return "k" + Date.now().toString(36) + Math.random().toString(36).slice(2);
  }

  function showCheckout(details) {
    if (!checkout) return;
    checkout.hidden = false;
    document.getElementById("checkout-message").textContent = details.message || "";
    var due = details.amount_due !== undefined ? details.amount_due : details.estimated_price;
    document.getElementById("checkout-amount").textContent = money.format(due);
    renderFiles(document.getElementById("checkout-files"), details.files || [], due);
    var payButton = document.getElementById("checkout-pay");
    var mode = document.getElementById("checkout-mode");
    mode.textContent = entitlement && entitlement.test_mode ? t.testMode : "";
    payButton.hidden = !(entitlement && entitlement.test_mode);
    if (payButton.hidden) mode.textContent = t.noTestCard;
    var how = details.how_to_pay;
    var requests = how.conversion_requests && how.conversion_requests.length ? how.conversion_requests
                                                                              : [how.conversion_request];
    // One key per priced request: pressing again (or a retry after an error) never pays twice.
    var key = newKey();
    payButton.onclick = function () {
      payButton.disabled = true;
      showError("");
      fetch("/api/payments/create-payment-intent", {
        method: "POST", headers: apiHeaders(true), credentials: "same-origin",
        body: JSON.stringify({ conversion_requests: requests, idempotency_key: key,
                               session_id: config.sessionId || undefined })
      }).then(function (r) { return r.json().then(function (b) { return { ok: r.ok, body: b }; }); })
        .then(function (res) {
          if (!res.ok) throw new Error(res.body.error || t.network);
          return fetch("/api/payments/transactions/" + res.body.transaction_id + "/pay-test", {
            method: "POST", headers: apiHeaders(true), credentials: "same-origin",
            body: JSON.stringify({ card: "visa", session_id: config.sessionId || undefined })
          }).then(function (r) { return r.json().then(function (b) { return { ok: r.ok, body: b }; }); });
        })
        .then(function (res) {
          payButton.disabled = false;
          if (!res.ok || res.body.status !== "completed") throw new Error(res.body.error || t.network);
          txInput.value = res.body.id;
          checkout.hidden = true;
          showError("");
          uploadText.textContent = t.paid;
          submitConversion();
        })
        .catch(function (err) { payButton.disabled = false; showError(err.message); });
    };
  }

  [target, quality].forEach(function (el) { el.addEventListener("change", updatePrice); });
  if (useCredit) useCredit.addEventListener("change", loadQuote);
  loadEntitlement();

  input.addEventListener("change", function () { setFiles(input.files); });
  ["dragenter", "dragover"].forEach(function (name) {
    dropzone.addEventListener(name, function (e) { e.preventDefault(); dropzone.classList.add("dragover"); });
  });
  ["dragleave", "drop"].forEach(function (name) {
    dropzone.addEventListener(name, function (e) { e.preventDefault(); dropzone.classList.remove("dragover"); });
  });
  dropzone.addEventListener("drop", function (e) {
    if (e.dataTransfer && e.dataTransfer.files.length) {
      input.files = e.dataTransfer.files;
      setFiles(e.dataTransfer.files);
    }
  });

  function csrfToken() {
    var el = form.querySelector("input[name=csrfmiddlewaretoken]");
    return el ? el.value : "";
  }

  function statusLabel(status) { return t[status] || status; }

  function renderResult(item) {
    var li = document.getElementById("conv-" + item.id);
    if (!li) {
      li = document.createElement("li");
      li.id = "conv-" + item.id;
      resultList.appendChild(li);
    }
    li.innerHTML = "";
    var name = document.createElement("span");
    name.className = "name";
    name.textContent = item.original_filename + " → " + item.target_format.toUpperCase();
    var status = document.createElement("span");
    status.className = "status status-" + item.status;
    status.textContent = statusLabel(item.status) +
      (item.status === "processing" ? " · " + percent.format((item.progress || 0) / 100) : "");
    li.appendChild(name);
    li.appendChild(status);
    if (item.status === "pending" || item.status === "processing") {
      var bar = document.createElement("progress");
      bar.max = 100; bar.value = item.progress || 0;
      bar.setAttribute("aria-label", item.original_filename);
      li.appendChild(bar);
    }
    if (item.status === "failed" && item.error) {
      var err = document.createElement("span");
      err.className = "field-error";
      err.textContent = item.error + " " + t.whatToDo;
      li.appendChild(err);
    }
    if (item.status === "completed") {
      var a = document.createElement("a");
      a.className = "button small";
      a.href = "/conversions/" + item.id + "/download/";
      a.textContent = t.download;
      a.setAttribute("download", "");
      li.appendChild(a);
    }
  }

  // "Tus últimas conversiones" from a fresh copy of this page once the jobs have finished.
  function refreshRecent() {
    var recent = document.getElementById("recent");
    if (!recent) return;
    fetch(window.location.pathname, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (!html) return;
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("recent");
        if (!fresh) return;
        recent.innerHTML = fresh.innerHTML;
        recent.hidden = fresh.hidden;
      }).catch(function () {});
  }

  function poll(ids) {
    var pending = ids.slice();
    var headers = config.sessionId ? { "X-Session-Id": config.sessionId } : {};
    function tick() {
      Promise.all(pending.map(function (id) {
        return fetch("/api/conversion/" + id, { headers: headers, credentials: "same-origin" })
          .then(function (r) { return r.json(); });
      })).then(function (items) {
        items = items.filter(function (it) { return it && it.id; });  // gone (another session): dropped
        if (!items.length) { if (!resultList.children.length) results.hidden = true; return; }
        items.forEach(renderResult);
        pending = items.filter(function (it) { return it.status === "pending" || it.status === "processing"; })
                       .map(function (it) { return it.id; });
        var done = items.filter(function (it) { return it.status === "completed"; }).length;
        if (pending.length) { setTimeout(tick, 1000); return; }
        if (ids.length > 1 && done > 0) { zipLink.hidden = false; }
        refreshRecent();
      }).catch(function () { setTimeout(tick, 3000); });
    }
    tick();
  }

  // Price first: when the quote says something must be paid, the checkout comes before any byte
  // is uploaded, and the files go up once, after paying (the server still decides: a 402 shows it too).
  function dueRequests(body) {
    return (body && body.files || []).filter(function (f) { return f.paid_by === "payment" && !f.prepaid; })
      .map(function (f) {
        return { source_format: f.source_format, target_format: f.target_format, file_size_mb: f.file_size_mb,
                 quality: f.quality, name: f.name };
      });
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    if (!input.files.length) { showError(t.chooseFile); return; }
    showError("");
    if (checkout) checkout.hidden = true;
    if (!checkout || (txInput && txInput.value)) { submitConversion(); return; }
    button.disabled = true;
    loadQuote().then(function (body) {
      button.disabled = false;
      var due = dueRequests(body);
      if (body && body.amount_due > 0 && due.length) {
        showCheckout({ message: t.payFirst, amount_due: body.amount_due, files: body.files,
                       how_to_pay: { conversion_requests: due } });
        document.getElementById("checkout-step").focus();
        return;
      }
      submitConversion();
    });
  });

  function showUploadProgress(loaded, total) {
    var pct = total ? Math.round((loaded / total) * 100) : 100;
    uploadBar.value = pct;
    uploadText.textContent = formatSize(loaded) + " " + t.of + " " + formatSize(total) +
      " (" + percent.format(pct / 100) + ")";
  }

  function appendOptions(data) {
    data.append("target_format", target.value);
    data.append("quality", quality.value);
    if (useCredit && useCredit.checked) data.append("use_credit", "true");
    if (txInput && txInput.value) data.append("transaction_id", txInput.value);
    // "Más opciones": the filled ones go as one JSON object (the API's `options`).
    var extra = {};
    Array.prototype.forEach.call(form.querySelectorAll("[name^='opt_']"), function (el) {
      if (el.value !== "") extra[el.name.slice(4)] = el.value;
    });
    if (Object.keys(extra).length) data.append("options", JSON.stringify(extra));
  }

  // One file above the threshold goes in resumable chunks (tus, static/js/resumable-upload.js):
  // a dropped connection resumes where the server stands instead of starting over.
  var finishedUpload = null;

  function submitConversion() {
    var single = input.files.length === 1 ? input.files[0] : null;
    if (single && window.AncloraResumable && config.resumableThresholdBytes !== undefined &&
        single.size > config.resumableThresholdBytes) {
      submitResumable(single);
      return;
    }
    var data = new FormData();
    Array.prototype.forEach.call(input.files, function (f) { data.append("file", f, f.name); });
    appendOptions(data);
    sendConvert(data, true);
  }

  function submitResumable(file) {
    progressBlock.hidden = false;
    button.disabled = true;
    var uploaded = finishedUpload && finishedUpload.file === file ? Promise.resolve(finishedUpload.id) :
      window.AncloraResumable.upload(file, {
        headers: apiHeaders(false), chunkSize: config.resumableChunkBytes, onProgress: showUploadProgress,
        metadata: { use_credit: useCredit && useCredit.checked ? "true" : "",
                    transaction_id: txInput && txInput.value ? txInput.value : "" },
        onCreated: function (body) { if (body.session_id) config.sessionId = body.session_id; },
      });
    uploaded.then(function (id) {
      finishedUpload = { file: file, id: id };
      var data = new FormData();
      data.append("upload_id", id);
      appendOptions(data);
      sendConvert(data, false);
    }).catch(function (err) {
      button.disabled = false;
      showError(err.message === "network" ? t.network : err.message);
    });
  }

  function sendConvert(data, withProgress) {
    var xhr = new XMLHttpRequest();
    xhr.open("POST", "/api/conversion/convert");
    xhr.setRequestHeader("X-CSRFToken", csrfToken());
    if (config.sessionId) xhr.setRequestHeader("X-Session-Id", config.sessionId);
    progressBlock.hidden = false;
    button.disabled = true;
    xhr.upload.onprogress = function (ev) {
      if (withProgress && ev.lengthComputable) showUploadProgress(ev.loaded, ev.total);
    };
    xhr.onerror = function () { button.disabled = false; showError(t.network); };
    xhr.onload = function () {
      button.disabled = false;
      var body = {};
      try { body = JSON.parse(xhr.responseText); } catch (err) { body = {}; }
      if (xhr.status === 402 && body.details && body.details.how_to_pay) {
        if (txInput) txInput.value = "";
        progressBlock.hidden = true;
        uploadBar.value = 0;
        showCheckout({ message: body.error, estimated_price: body.details.estimated_price,
                       amount_due: body.details.amount_due, files: body.details.files,
                       how_to_pay: body.details.how_to_pay });
        return;
      }
      if (xhr.status !== 202) { showError(body.error || t.network); return; }
      finishedUpload = null;
      if (txInput) txInput.value = "";
      loadEntitlement().then(loadQuote);
      uploadBar.value = 100;
      if (body.session_id) config.sessionId = body.session_id;
      results.hidden = false;
      zipLink.hidden = true;
      zipLink.href = "/conversions/batch/" + body.batch_id + "/download/";
      body.conversions.forEach(renderResult);
      saveHistory(body.conversions.map(function (c) { return c.id; }), body.batch_id);
      results.focus();
      poll(body.conversions.map(function (c) { return c.id; }));
    };
    xhr.send(data);
  }
  // Results stay on the page after a reload (this tab's session): the last batch is polled again.
  function saveHistory(ids, batchId) {
    try { window.sessionStorage.setItem(HISTORY, JSON.stringify({ ids: ids, batch: batchId })); } catch (e) { /* off */ }
  }
  function restoreHistory() {
    var saved = null;
    try { saved = JSON.parse(window.sessionStorage.getItem(HISTORY) || "null"); } catch (e) { saved = null; }
    if (!saved || !saved.ids || !saved.ids.length) return;
    results.hidden = false;
    zipLink.href = "/conversions/batch/" + saved.batch + "/download/";
    poll(saved.ids);
  }
  initialTarget();
  restoreHistory();
})();
