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
  var fileTargets = [];  // each file's own target in a batch of several (a row select each)
  var applyAll = document.getElementById("apply-all");
  var applyNote = document.getElementById("apply-all-note");
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

  // The valid targets of a format (from the catalogue), and a select filled with them by family.
  function targetsOf(fmt) { return (fmt && config.targets[fmt]) || []; }
  function fillTargets(select, list) {
    select.innerHTML = "";
    var families = config.categories || {};
    var placed = {};
    Object.keys(families).forEach(function (family) {
      var members = list.filter(function (fmt) { return families[family].indexOf(fmt) !== -1 && !placed[fmt]; });
      if (!members.length) return;
      var group = document.createElement("optgroup");
      group.label = t["family_" + family] || family;
      members.forEach(function (fmt) {
        placed[fmt] = true;
        var opt = document.createElement("option");
        opt.value = fmt; opt.textContent = fmt.toUpperCase();
        group.appendChild(opt);
      });
      select.appendChild(group);
    });
    list.filter(function (fmt) { return !placed[fmt]; }).forEach(function (fmt) {
      var opt = document.createElement("option");
      opt.value = fmt; opt.textContent = fmt.toUpperCase();
      select.appendChild(opt);
    });
  }

  // One file: its targets. Several: every target valid for at least one of them (each file row has
  // its own select; choosing here applies to every file it is valid for).
  function refreshTargets() {
    var lists = detected.map(targetsOf);
    var allowed = !lists.length ? allTargets : allTargets.filter(function (fmt) {
      return lists.some(function (list) { return list.indexOf(fmt) !== -1; });
    });
    var query = search ? search.value.trim().toLowerCase().replace(/^\./, "") : "";
    var shown = query ? allowed.filter(function (fmt) { return fmt.indexOf(query) !== -1; }) : allowed;
    if (!shown.length) shown = allowed;
    var current = target.value || remembered();
    fillTargets(target, shown);
    if (shown.indexOf(current) !== -1) target.value = current;
    else if (query && shown.length) target.value = shown[0];
    syncGlobal();
    var stuck = files.filter(function (f, i) { return i < lists.length && !lists[i].length; });
    button.disabled = stuck.length > 0;
    showError(stuck.length ? t.cannotConvert.replace("%(name)s", stuck.map(function (f) { return f.name; }).join(", "))
                           : "");
  }

  function isBatch() { return files.length > 1; }
  function fileTarget(i) { return isBatch() ? fileTargets[i] : target.value; }

  // A batch whose files go to different targets: the picker above says so ("— varios —") instead
  // of naming a target that not every file gets; one target for all: that one.
  var lastGlobal = null;  // the target last chosen in the picker above: what "Aplicar a todos" applies
  function syncGlobal() {
    if (applyAll && (lastGlobal || target.value)) {
      applyAll.textContent = t.applyFormat.replace("%(format)s", (lastGlobal || target.value).toUpperCase());
    }
    var mixed = target.querySelector("option.mixed");
    var chosen = fileTargets.filter(Boolean);
    var same = chosen.length && chosen.every(function (fmt) { return fmt === chosen[0]; });
    if (!isBatch() || !chosen.length || same) {
      if (mixed) mixed.remove();
      target.required = true;
      if (same && isBatch() && target.querySelector("option[value='" + chosen[0] + "']")) target.value = chosen[0];
      return;
    }
    if (!mixed) {
      mixed = document.createElement("option");
      mixed.className = "mixed";
      mixed.value = "";
      mixed.textContent = t.mixed;
      target.insertBefore(mixed, target.firstChild);
    }
    target.value = "";
    target.required = false;  // each file has its own (the browser would refuse the empty choice)
  }

  // "Aplicar a todos": the chosen target on every file it is valid for (the others keep theirs).
  function applyToAll(fmt) {
    if (!isBatch() || !fmt) return;
    var applied = 0;
    files.forEach(function (file, i) {
      if (targetsOf(detected[i]).indexOf(fmt) === -1) return;
      fileTargets[i] = fmt;
      var select = document.getElementById("file-target-" + i);
      if (select) select.value = fmt;
      applied += 1;
    });
    applyNote.textContent = (applied === files.length ? t.appliedAll : t.appliedSome)
      .replace("%(n)s", applied).replace("%(total)s", files.length)
      .replace("%(format)s", fmt.toUpperCase());
    applyNote.hidden = false;
    syncGlobal();
    updatePrice();
  }
  if (search) {
    search.hidden = false;
    search.addEventListener("input", function () {
      var before = target.value;
      refreshTargets();
      if (target.value !== before) target.dispatchEvent(new Event("change"));
    });
  }
  target.addEventListener("change", function () {
    if (!target.value) return;  // "— varios —"
    remember(target.value);
    lastGlobal = target.value;
    applyToAll(target.value);
  });
  if (applyAll) applyAll.addEventListener("click", function () { applyToAll(lastGlobal || target.value); });
  function initialTarget() {
    var before = target.value;
    var last = remembered();
    if (last && allTargets.indexOf(last) !== -1) target.value = last;
    refreshTargets();
    if (target.value !== before) target.dispatchEvent(new Event("change"));
  }

  function setFiles(list) {
    files = Array.prototype.slice.call(list);
    detected = [];
    fileTargets = [];
    fileList.innerHTML = "";
    if (applyAll) applyAll.hidden = true;
    applyNote.hidden = true;
    Promise.all(files.map(detect)).then(function (results) {
      detected = results.map(function (result) { return result && result.format; });
      refreshTargets();
      lastGlobal = target.value || null;
      var last = remembered();
      files.forEach(function (file, i) {
        var li = document.createElement("li");
        li.id = "file-row-" + i;
        var mb = file.size / (1024 * 1024);
        // "No se pudo identificar el tipo de archivo." (or why it is not converted) in words
        var label = detected[i] ? detected[i].toUpperCase() : ((results[i] && results[i].message) || t.unknown);
        var info = document.createElement("span");
        info.className = "file-info";
        info.textContent = file.name + " — " + formatSize(file.size) + " — " + t.detected + ": " + label;
        li.appendChild(info);
        if (!detected[i] || mb > config.maxSizeMb) {
          var bad = document.createElement("span");
          bad.className = "bad";
          bad.textContent = !detected[i] ? "" : t.tooBig;
          li.appendChild(bad);
        }
        var valid = targetsOf(detected[i]);
        if (isBatch() && valid.length) {
          // Its own target: the one chosen above when valid for it, else the last one used, else the first.
          fileTargets[i] = valid.indexOf(target.value) !== -1 ? target.value
            : (last && valid.indexOf(last) !== -1 ? last : valid[0]);
          var controls = document.createElement("span");
          controls.className = "file-controls";
          var arrow = document.createElement("label");
          arrow.htmlFor = "file-target-" + i;
          arrow.textContent = t.to;
          var select = document.createElement("select");
          select.id = "file-target-" + i;
          select.className = "file-target";
          select.setAttribute("aria-label", t.targetFor.replace("%(name)s", file.name));
          fillTargets(select, valid);
          select.value = fileTargets[i];
          select.addEventListener("change", function () { fileTargets[i] = select.value; syncGlobal(); updatePrice(); });
          controls.appendChild(arrow);
          controls.appendChild(select);
          li.appendChild(controls);
        }
        var price = document.createElement("span");
        price.className = "file-price";
        price.id = "file-price-" + i;
        li.appendChild(price);
        fileList.appendChild(li);
      });
      if (applyAll) applyAll.hidden = !isBatch();
      syncGlobal();
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
    var ready = files.map(function (f, i) { return detected[i] && fileTarget(i) ? { file: f, fmt: detected[i], i: i } : null; })
                     .filter(Boolean);
    if (!ready.length) { quote = null; renderWhatPays(); return Promise.resolve(null); }
    var seq = ++quoteSeq;
    return fetch("/api/payments/quote", {
      method: "POST", headers: apiHeaders(true), credentials: "same-origin",
      body: JSON.stringify({ files: ready.map(function (item) {
                               return { name: item.file.name, source_format: item.fmt, size_bytes: item.file.size,
                                        target_format: fileTarget(item.i) };
                             }),
                             target_format: target.value || ready[0].fmt && fileTarget(ready[0].i),
                             quality: quality.value,
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
    var ready = files.map(function (f, i) { return detected[i] && fileTarget(i) ? { file: f, fmt: detected[i], i: i } : null; })
                     .filter(Boolean);
    if (!ready.length) { priceBox.hidden = true; return; }
    var seq = ++priceSeq;
    loadQuote();
    Promise.all(ready.map(function (item) {
      return fetch("/api/payments/estimate", {
        method: "POST", headers: apiHeaders(true), credentials: "same-origin",
        body: JSON.stringify({ source_format: item.fmt, target_format: fileTarget(item.i),
                               file_size_mb: sizeMb(item.file), quality: quality.value })
      }).then(function (r) { return r.ok ? r.json() : null; });
    })).then(function (bodies) {
      if (seq !== priceSeq) return;
      // Each file's tariff in its own row (it follows the file's own target).
      ready.forEach(function (item, k) {
        var cell = document.getElementById("file-price-" + item.i);
        if (cell) cell.textContent = bodies[k] ? money.format(bodies[k].estimated_price) : "";
      });
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

  // onPaid(transactionId): what to do once paid (default: send the chosen files).
  function showCheckout(details, onPaid) {
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
          checkout.hidden = true;
          showError("");
          if (onPaid) { onPaid(res.body.id); return; }
          txInput.value = res.body.id;
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
    // Two pollers (the submit's and the restored history's) may report the same state: a row is rebuilt
    // only when it changed, so a click on its download link or "convert again" is never lost mid-way.
    var state = JSON.stringify([item.status, item.progress, item.queue && item.queue.estimated_seconds,
                                item.error, item.source_available]);
    if (li.dataset.state === state) return;
    li.dataset.state = state;
    li.innerHTML = "";
    var name = document.createElement("span");
    name.className = "name";
    name.id = "conv-name-" + item.id;
    name.textContent = item.original_filename + " → " + item.target_format.toUpperCase();
    var status = document.createElement("span");
    status.className = "status status-" + item.status;
    status.textContent = statusLabel(item.status) +
      (item.status === "processing" ? " · " + percent.format((item.progress || 0) / 100) : "") +
      (item.status === "pending" && item.queue && item.queue.estimated_seconds
        ? " · ~" + waitText(item.queue.estimated_seconds) : "");
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
    if (item.status === "completed" || item.status === "failed") li.appendChild(againControl(item));
  }

  // "En cola · ~40 s" / "~3 min": the server's estimate from the jobs ahead and recent run times.
  function waitText(seconds) {
    return seconds < 90 ? seconds + "\u00a0s" : Math.round(seconds / 60) + "\u00a0min";
  }

  // "Convertir de nuevo a …": the stored source goes to another target, no new upload.
  function againControl(item) {
    var box = document.createElement("div");
    box.className = "again";
    var others = targetsOf(item.original_format).filter(function (fmt) { return fmt !== item.target_format; });
    if (item.source_available === false) {
      var gone = document.createElement("span");
      gone.className = "muted again-gone";
      gone.textContent = t.sourceGone;
      box.appendChild(gone);
      return box;
    }
    if (!others.length) return box;
    var label = document.createElement("label");
    label.htmlFor = "again-" + item.id;
    label.textContent = t.convertAgain;
    var select = document.createElement("select");
    select.id = "again-" + item.id;
    select.className = "again-target";
    fillTargets(select, others);
    var go = document.createElement("button");
    go.type = "button";
    go.className = "button button-light small again-button";
    go.textContent = t.convertAgainButton;
    go.setAttribute("aria-describedby", "conv-name-" + item.id);
    var message = document.createElement("span");
    message.className = "field-error again-error";
    message.setAttribute("role", "alert");
    message.hidden = true;
    go.addEventListener("click", function () { convertAgain(item, select.value, go, message, null); });
    box.appendChild(label);
    box.appendChild(select);
    box.appendChild(go);
    box.appendChild(message);
    return box;
  }

  function convertAgain(item, fmt, go, message, transactionId) {
    go.disabled = true;
    message.hidden = true;
    fetch("/api/conversion/" + item.id + "/convert-again", {
      method: "POST", headers: apiHeaders(true), credentials: "same-origin",
      body: JSON.stringify({ target_format: fmt, quality: item.quality,
                             use_credit: !!(useCredit && useCredit.checked),
                             transaction_id: transactionId || undefined })
    }).then(function (r) { return r.json().then(function (b) { return { status: r.status, body: b }; }); })
      .then(function (res) {
        go.disabled = false;
        var details = res.body.details || {};
        if (res.status === 402 && details.how_to_pay) {
          showCheckout({ message: res.body.error, estimated_price: details.estimated_price,
                         amount_due: details.amount_due, files: details.files, how_to_pay: details.how_to_pay },
                       function (paid) { convertAgain(item, fmt, go, message, paid); });
          checkout.focus();
          return;
        }
        if (res.status !== 202) {
          message.textContent = res.body.error || t.network;
          message.hidden = false;
          return;
        }
        if (res.body.session_id) config.sessionId = res.body.session_id;
        res.body.conversions.forEach(renderResult);
        var ids = res.body.conversions.map(function (c) { return c.id; });
        addHistory(ids, res.body.batch_id);
        loadEntitlement().then(loadQuote);
        poll(ids);
      })
      .catch(function () { go.disabled = false; message.textContent = t.network; message.hidden = false; });
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
        if ((ids.length > 1 && done > 0) || resultList.querySelectorAll(".status-completed").length > 1) {
          zipLink.hidden = false;
        }
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
    data.append("target_format", target.value || fileTarget(0));
    // A batch: each file's own target, in the order of the files.
    if (isBatch()) files.forEach(function (f, i) { data.append("target_formats", fileTarget(i)); });
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
  // A "convert again" joins the batch of the page's results (same zip), so it is kept with them.
  function addHistory(ids, batchId) {
    var saved = null;
    try { saved = JSON.parse(window.sessionStorage.getItem(HISTORY) || "null"); } catch (e) { saved = null; }
    saveHistory((saved && saved.ids || []).concat(ids), batchId);
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
