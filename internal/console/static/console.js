// Hotdesk PBX console: live desks. The server pushes one "desk" event per
// login, logout or registration change over SSE; we answer by asking htmx
// to refresh the desks table (debounced, so a burst costs one request).
(function () {
  "use strict";
  function start() {
    var el = document.querySelector("[data-live]");
    if (!el || !window.EventSource || !window.htmx) return;
    var es = new EventSource(el.getAttribute("data-live"));
    var timer = null, opened = false;
    function refresh() {
      clearTimeout(timer);
      timer = setTimeout(function () { htmx.trigger(document.body, "desks-changed"); }, 100);
    }
    es.addEventListener("desk", refresh);
    // After a reconnect we may have missed events: refresh once.
    es.addEventListener("open", function () { if (opened) refresh(); opened = true; document.body.classList.add("live"); });
    es.addEventListener("error", function () { document.body.classList.remove("live"); });
    window.addEventListener("pagehide", function () { es.close(); });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
