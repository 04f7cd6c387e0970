// Acting from the case page: each form sends its request to the API with the session cookie,
// the page's CSRF token and, as If-Match, the version the page was rendered from. A page left
// open while someone else acted gets 412 and says "this dossier changed, reload".
(function () {
  "use strict";
  var panel = document.getElementById("panel");
  var DONE = "admission:done";
  if (!panel) { return; }
  var caseId = panel.getAttribute("data-case");
  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var csrf = csrfMeta ? csrfMeta.getAttribute("content") : "";
  var lang = document.documentElement.getAttribute("lang") || "vi";
  var mine = false;  // a request of this page is under way or has just succeeded

  function version() { return panel.getAttribute("data-version"); }

  function stale(refused) {
    document.getElementById("stale").hidden = false;
    panel.classList.add("is-stale");
    if (refused) { panel.querySelectorAll("button").forEach(function (b) { b.disabled = true; }); }
  }

  function say(form, text, ok) {
    var out = form.querySelector(".result");
    if (!out) { return; }
    out.textContent = text;
    out.className = "result " + (ok ? "ok" : "bad");
  }

  function problem(body) {
    if (!body || !body.error) { return "Error"; }
    var text = body.error.message;
    var details = body.error.details;
    if (details && details.missing) {
      text += ": " + details.missing.map(function (m) { return m.label || m.name; }).join("; ");
    }
    return text;
  }

  // XMLHttpRequest rather than fetch: it reports upload progress.
  function send(method, url, body, form, onProgress) {
    return new Promise(function (resolve) {
      var xhr = new XMLHttpRequest();
      xhr.open(method, url);
      xhr.setRequestHeader("X-CSRF-Token", csrf);
      xhr.setRequestHeader("If-Match", '"' + version() + '"');
      xhr.setRequestHeader("Accept-Language", lang);
      if (!(body instanceof FormData)) { xhr.setRequestHeader("Content-Type", "application/json"); }
      if (onProgress && xhr.upload) {
        xhr.upload.onprogress = function (e) { if (e.lengthComputable) { onProgress(e.loaded / e.total); } };
      }
      xhr.onload = function () {
        var parsed = null;
        try { parsed = JSON.parse(xhr.responseText); } catch (e) { parsed = null; }
        resolve({ status: xhr.status, body: parsed });
      };
      xhr.onerror = function () { resolve({ status: 0, body: null }); };
      mine = true;
      xhr.send(body instanceof FormData ? body : JSON.stringify(body));
    }).then(function (answer) {
      if (answer.status >= 200 && answer.status < 300) {
        sessionStorage.setItem(DONE, panel.getAttribute("data-done"));
        window.location.reload();
      } else {
        mine = false;
        if (answer.status === 412) { stale(true); say(form, panel.getAttribute("data-stale"), false); }
        else { say(form, problem(answer.body), false); }
      }
      return answer;
    });
  }

  function valuesOf(form) {
    var body = {};
    form.querySelectorAll("textarea, input[type=text], input[type=date]").forEach(function (el) {
      if (el.value.trim() !== "") { body[el.name] = el.value.trim(); }
    });
    form.querySelectorAll("fieldset[data-list]").forEach(function (set) {
      var name = set.getAttribute("data-list");
      var picked = Array.prototype.map.call(set.querySelectorAll("input:checked"), function (i) { return i.value; });
      if (picked.length) { body[name] = picked; }
    });
    return body;
  }

  panel.querySelectorAll("form.action").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var body = valuesOf(form);
      body.action = form.getAttribute("data-action");
      send("POST", "/api/v1/cases/" + caseId + "/transitions", body, form);
    });
  });

  panel.querySelectorAll("form.upload").forEach(function (form) {
    var input = form.querySelector("input[type=file]");
    var drop = form.querySelector(".drop");
    var bar = form.querySelector("progress");
    ["dragenter", "dragover"].forEach(function (name) {
      drop.addEventListener(name, function (e) { e.preventDefault(); drop.classList.add("over"); });
    });
    ["dragleave", "drop"].forEach(function (name) {
      drop.addEventListener(name, function () { drop.classList.remove("over"); });
    });
    drop.addEventListener("drop", function (e) {
      e.preventDefault();
      if (e.dataTransfer && e.dataTransfer.files.length) { input.files = e.dataTransfer.files; }
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!input.files.length) { return; }
      var data = new FormData();
      data.append("doc_type", form.getAttribute("data-upload"));
      data.append("file", input.files[0]);
      bar.hidden = false;
      say(form, panel.getAttribute("data-uploading"), true);
      send("POST", "/api/v1/cases/" + caseId + "/documents", data, form, function (part) {
        bar.value = Math.round(part * 100);
      });
    });
  });

  var answer = document.getElementById("answer");
  if (answer) {
    answer.addEventListener("submit", function (event) {
      event.preventDefault();
      var picked = answer.querySelector("input[name=verdict]:checked");
      var body = { verdict: picked ? picked.value : "" };
      var comment = answer.querySelector("textarea").value.trim();
      if (comment) { body.comment = comment; }
      var path = "/api/v1/cases/" + caseId + "/consultations/" + answer.getAttribute("data-consultation") + "/answer";
      send("POST", path, body, answer);
    });
  }

  var review = document.getElementById("review");
  if (review) {
    review.addEventListener("submit", function (event) {
      event.preventDefault();
      var doc = review.querySelector("select").value;
      var body = { reason: review.querySelector("textarea").value.trim() };
      send("POST", "/api/v1/cases/" + caseId + "/documents/" + doc + "/review", body, review);
    });
  }

  // The live region shows the case as it now is: if someone else moved it on, say so.
  document.addEventListener("live:updated", function () {
    var shown = document.querySelector("[data-case-version]");
    if (!mine && shown && shown.getAttribute("data-case-version") !== version()) { stale(false); }
  });

  var done = sessionStorage.getItem(DONE);
  if (done) {
    sessionStorage.removeItem(DONE);
    var message = document.getElementById("panel-message");
    message.textContent = done;
    message.hidden = false;
  }
})();

// A new dossier, from the work page of an applicant province: then straight to its page.
(function () {
  "use strict";
  var form = document.getElementById("new-case");
  if (!form) { return; }
  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var body = {};
    form.querySelectorAll("input, select").forEach(function (el) {
      var value = el.value.trim();
      if (value === "") { return; }
      body[el.name] = el.type === "number" ? Number(value) : value;
    });
    fetch("/api/v1/cases", {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        "X-CSRF-Token": csrfMeta ? csrfMeta.getAttribute("content") : "",
        "Accept-Language": document.documentElement.getAttribute("lang") || "vi"
      },
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().then(function (json) { return { ok: response.ok, json: json }; });
    }).then(function (answer) {
      if (answer.ok) { window.location.assign("/cases/" + answer.json.id); return; }
      var out = form.querySelector(".result");
      out.textContent = answer.json.error ? answer.json.error.message : "Error";
      out.className = "result bad";
    });
  });
})();
