/* A small tus 1.0 client (creation + core): create, PATCH in chunks, resume from HEAD after a
   dropped connection. window.AncloraResumable.upload(file, options) -> Promise of the upload id.
   options: headers (CSRF, session), chunkSize, onProgress(sent, total), retries, metadata. */
(function () {
  "use strict";
  var TUS = "1.0.0";

  function b64(text) { return btoa(unescape(encodeURIComponent(text))); }

  function request(method, url, headers, body, onProgress) {
    return new Promise(function (resolve, reject) {
      var xhr = new XMLHttpRequest();
      xhr.open(method, url);
      xhr.withCredentials = true;
      Object.keys(headers).forEach(function (name) { xhr.setRequestHeader(name, headers[name]); });
      xhr.setRequestHeader("Tus-Resumable", TUS);
      if (onProgress && xhr.upload) {
        xhr.upload.onprogress = function (ev) { if (ev.lengthComputable) onProgress(ev.loaded); };
      }
      xhr.onload = function () { resolve(xhr); };
      xhr.onerror = function () { reject(new Error("network")); };
      xhr.ontimeout = function () { reject(new Error("network")); };
      xhr.send(body === undefined ? null : body);
    });
  }

  function wait(ms) { return new Promise(function (resolve) { setTimeout(resolve, ms); }); }

  function apiError(xhr) {
    var body = {};
    try { body = JSON.parse(xhr.responseText); } catch (err) { body = {}; }
    var error = new Error(body.error || ("HTTP " + xhr.status));
    error.status = xhr.status;
    error.body = body;
    return error;
  }

  function upload(file, options) {
    options = options || {};
    var headers = options.headers || {};
    var chunkSize = options.chunkSize || 8 * 1024 * 1024;
    var retries = options.retries === undefined ? 8 : options.retries;
    var onProgress = options.onProgress || function () {};
    var meta = Object.assign({ filename: file.name }, options.metadata || {});
    var metadata = Object.keys(meta).filter(function (k) { return meta[k] !== undefined && meta[k] !== ""; })
      .map(function (k) { return k + " " + b64(String(meta[k])); }).join(",");
    var createHeaders = Object.assign({ "Upload-Length": String(file.size), "Upload-Metadata": metadata }, headers);
    var url = null;
    var id = null;

    function offsetFromServer() {
      return request("HEAD", url, headers).then(function (xhr) {
        if (xhr.status !== 200) throw apiError(xhr);
        return parseInt(xhr.getResponseHeader("Upload-Offset"), 10);
      });
    }

    function send(offset, failures) {
      if (offset >= file.size) { onProgress(file.size, file.size); return Promise.resolve(id); }
      var chunk = file.slice(offset, Math.min(offset + chunkSize, file.size));
      var patchHeaders = Object.assign({ "Upload-Offset": String(offset),
                                         "Content-Type": "application/offset+octet-stream" }, headers);
      return request("PATCH", url, patchHeaders, chunk, function (loaded) { onProgress(offset + loaded, file.size); })
        .then(function (xhr) {
          if (xhr.status === 204) {
            return send(parseInt(xhr.getResponseHeader("Upload-Offset"), 10), 0);
          }
          if (xhr.status === 409 || xhr.status >= 500) throw Object.assign(apiError(xhr), { retry: true });
          throw apiError(xhr);
        })
        .catch(function (error) {
          // A dropped connection (or a conflicting offset): ask the server where it stands and go on.
          if ((error.status && !error.retry) || failures >= retries) throw error;
          return wait(Math.min(1000 * Math.pow(2, failures), 15000))
            .then(offsetFromServer)
            .then(function (serverOffset) { return send(serverOffset, failures + 1); },
                  function (headError) {
                    if (headError.status) throw headError;
                    return send(offset, failures + 1);
                  });
        });
    }

    return request("POST", options.endpoint || "/api/uploads/", createHeaders).then(function (xhr) {
      if (xhr.status !== 201) throw apiError(xhr);
      var body = JSON.parse(xhr.responseText);
      url = body.upload_url;
      id = body.id;
      if (options.onCreated) options.onCreated(body);
      return send(0, 0);
    });
  }

  window.AncloraResumable = { upload: upload };
})();
