// Keeps the board or case page current: listens to the change feed (Server-Sent Events,
// authenticated by the HttpOnly cookie) and re-fetches the server-rendered fragment.
(function () {
  "use strict";
  var region = document.getElementById("live-region");
  if (!region || !window.EventSource) { return; }
  var status = document.getElementById("live-status");
  var caseId = region.getAttribute("data-case");
  var fragment = region.getAttribute("data-fragment");
  var timer = null;
  var busy = false;
  var again = false;

  function say(text, lost) {
    if (!status) { return; }
    status.textContent = text;
    status.parentNode.classList.toggle("lost", !!lost);
  }

  function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    fetch(fragment, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (response.status === 401) { window.location.assign("/signin"); return null; }
        return response.ok ? response.text() : null;
      })
      .then(function (html) {
        if (html !== null && html !== undefined) {
          region.innerHTML = html;
          var now = new Date();
          say(status.getAttribute("data-updated") + " " + now.toLocaleTimeString(), false);
          document.dispatchEvent(new CustomEvent("live:updated"));
        }
      })
      .finally(function () {
        busy = false;
        if (again) { again = false; refresh(); }
      });
  }

  function soon() {
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(refresh, 150);
  }

  var source = new EventSource("/api/v1/events/stream?after=" + region.getAttribute("data-cursor"));
  source.onmessage = function (message) {
    var item;
    try { item = JSON.parse(message.data); } catch (e) { return; }
    if (!caseId || item.case_id === caseId) { soon(); }
  };
  source.onopen = function () { say(status.getAttribute("data-ok"), false); };
  source.onerror = function () { say(status.getAttribute("data-lost"), true); };
  // Dates move even when nobody acts: a case becomes overdue at midnight.
  setInterval(refresh, 5 * 60 * 1000);
})();
