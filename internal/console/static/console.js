// Hotdesk PBX console: live desks. The server pushes one "desk" event per
// login, logout or registration change over SSE; we answer by asking htmx
// to refresh the desks table (debounced, so a burst costs one request).
// htmx does not swap error responses, so a failed htmx request (say, a desk
// logout while the database is down) shows the error page's message in an
// alert instead of failing silently.
(function () {
  "use strict";
  function start() {
    document.body.addEventListener("htmx:responseError", function (e) {
      showError(e.detail.xhr.status, e.detail.xhr.responseText);
    });
    document.body.addEventListener("htmx:sendError", function () {
      showError(0, "");
    });
    document.body.addEventListener("htmx:afterSwap", clearError);
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
  // showError puts the message of the console's error page (its first
  // paragraph) in an alert at the top of the page.
  function showError(status, html) {
    var msg = "The console could not reach the server. Check the connection and try again.";
    if (status) {
      var doc = new DOMParser().parseFromString(html || "", "text/html");
      var p = doc.querySelector("main .card p");
      msg = (p && p.textContent.trim()) || ("The server answered " + status + ".");
    }
    var box = document.getElementById("request-error");
    if (!box) {
      box = document.createElement("p");
      box.id = "request-error";
      box.className = "alert";
      box.setAttribute("role", "alert");
      var main = document.querySelector("main");
      if (!main) return;
      main.insertBefore(box, main.firstChild);
    }
    box.textContent = msg;
  }
  function clearError() {
    var box = document.getElementById("request-error");
    if (box) box.remove();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
