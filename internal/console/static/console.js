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
    if (!window.EventSource || !window.htmx) return;
    if (el) live(el.getAttribute("data-live"), true);
    else if ((el = document.getElementById("emergency-banner"))) live(el.getAttribute("data-events"), false);
  }
  // live follows the event stream. While it is down (server stopped, stream
  // cut, an error answer) for longer than a normal reconnect takes, a banner
  // says the page is not live; on reconnect the table is refreshed (events
  // were missed) and the banner goes. EventSource retries a cut connection
  // itself but gives up on an error answer (say a 503 while the server
  // restarts): then we open a new one, backing off to 15 s.
  // desks says the page shows the desks table (its banner names it); every
  // signed-in page follows the stream for the emergency banner.
  function live(url, desks) {
    var es = null, timer = null, bannerTimer = null, retry = null, delay = 2000, opened = false;
    function refresh() {
      clearTimeout(timer);
      timer = setTimeout(function () { htmx.trigger(document.body, "desks-changed"); }, 100);
    }
    function up() {
      clearTimeout(bannerTimer);
      bannerTimer = null;
      delay = 2000;
      document.body.classList.add("live");
      document.body.classList.remove("not-live");
      var b = document.getElementById("live-banner");
      if (b) b.remove();
      if (opened) { // after a reconnect we may have missed events
        if (desks) refresh();
        htmx.trigger(document.body, "emergency-changed");
      }
      opened = true;
    }
    function down() {
      document.body.classList.remove("live");
      if (bannerTimer === null) bannerTimer = setTimeout(banner, 3000);
    }
    function banner() {
      document.body.classList.add("not-live");
      if (document.getElementById("live-banner")) return;
      var b = document.createElement("p");
      b.id = "live-banner";
      b.className = "live-banner";
      b.setAttribute("role", "alert");
      b.textContent = desks ? "Not live — reconnecting. The desks below may be out of date." : "Not live — reconnecting. Emergency alerts may be late.";
      var main = document.querySelector("main");
      if (main) main.insertBefore(b, main.firstChild);
    }
    function connect() {
      retry = null;
      es = new EventSource(url);
      es.addEventListener("desk", function (ev) {
        var kind = "";
        try { kind = JSON.parse(ev.data).kind || ""; } catch (e) { /* a malformed event only refreshes */ }
        if (/^emergency_/.test(kind)) htmx.trigger(document.body, "emergency-changed");
        if (desks) refresh();
      });
      es.addEventListener("open", up);
      es.addEventListener("error", function () {
        down();
        if (es.readyState === EventSource.CLOSED && retry === null) {
          retry = setTimeout(connect, delay);
          delay = Math.min(delay * 2, 15000);
        }
      });
    }
    connect();
    window.addEventListener("pagehide", function () { clearTimeout(retry); if (es) es.close(); });
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
