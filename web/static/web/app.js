/* Small behaviours of the web UI. The pages work without this file; it adds the idle logoff
   timer with its warning and keeps the language switch on the current URL after htmx updated it. */
(function () {
  "use strict";

  // Automatic logoff: the server signs an idle session out (web.middleware). This timer warns
  // before that moment with a countdown, tells the server about the user's activity on the
  // page (keys, clicks: they send no request by themselves), and when the time is up asks the
  // server, which signs the session out and sends the page to the login form, so no patient
  // data stays on an unattended screen. Another tab's activity keeps this one open.
  var idle = parseInt(document.body.dataset.idleSeconds || "", 10);
  var warning = document.getElementById("idle-warning");
  if (idle && warning) {
    var sessionUrl = warning.dataset.sessionUrl;
    var countdown = warning.querySelector("[data-idle-countdown]");
    var warnSeconds = Math.min(60, Math.max(1, Math.floor(idle / 3)));
    // Activity is reported at most this often: the server's clock then runs at most this much
    // ahead of the user's last key or click.
    var reportEvery = Math.min(60, idle / 10) * 1000;
    var lastContact = Date.now(); // when the server last counted activity
    var timer = null;
    var ticker = null;
    var asking = false;

    var deadline = function () { return lastContact + idle * 1000; };
    var hideWarning = function () {
      warning.hidden = true;
      if (ticker) window.clearInterval(ticker);
      ticker = null;
    };
    var tick = function () {
      var left = Math.max(0, Math.ceil((deadline() - Date.now()) / 1000));
      countdown.textContent = Math.floor(left / 60) + ":" + String(left % 60).padStart(2, "0");
      // A second past the end, so that the server's clock has passed it too.
      if (Date.now() > deadline() + 1000) {
        hideWarning();
        ask(true);
      }
    };
    var showWarning = function () {
      if (ticker) return;
      warning.hidden = false;
      tick();
      ticker = window.setInterval(tick, 250);
    };
    var arm = function () {
      if (timer) window.clearTimeout(timer);
      hideWarning();
      var wait = deadline() - warnSeconds * 1000 - Date.now();
      timer = window.setTimeout(showWarning, Math.max(0, wait));
    };
    // ``background``: only ask how long the session has left; otherwise it is activity.
    var ask = function (background) {
      if (asking) return;
      asking = true;
      var sent = Date.now();
      var headers = { "HX-Request": "true", "HX-Current-URL": window.location.href };
      if (background) headers["X-Background-Request"] = "1";
      window.fetch(sessionUrl, { headers: headers, credentials: "same-origin", cache: "no-store" })
        .then(function (response) {
          var to = response.headers.get("HX-Redirect");
          if (to) {
            window.location.assign(to);
            return null;
          }
          if (!response.ok) throw new Error(String(response.status));
          return response.json().then(function (answer) {
            lastContact = sent - (idle - answer.remaining_seconds) * 1000;
            arm();
          });
        })
        .catch(function () {
          // The server did not answer: the page goes back to it, as at the end of the time.
          if (background) window.location.reload();
        })
        .finally(function () { asking = false; });
    };
    var activity = function () {
      if (warning.hidden && Date.now() - lastContact < reportEvery) return;
      ask(false);
    };
    ["keydown", "pointerdown", "wheel"].forEach(function (name) {
      document.addEventListener(name, activity, { capture: true, passive: true });
    });
    arm();
    document.body.addEventListener("htmx:beforeRequest", function (event) {
      // Background polling (elements marked data-poll) is not activity.
      var elt = event.detail && event.detail.elt;
      if (!(elt && elt.closest && elt.closest("[data-poll]"))) {
        lastContact = Date.now();
        arm();
      }
    });
  }

  // A part of the page that could not be updated says so instead of staying silent.
  var requestError = document.getElementById("request-error");
  document.body.addEventListener("htmx:responseError", function () {
    if (requestError) requestError.hidden = false;
  });
  document.body.addEventListener("htmx:sendError", function () {
    if (requestError) requestError.hidden = false;
  });
  document.body.addEventListener("htmx:afterSwap", function () {
    if (requestError) requestError.hidden = true;
  });

  // The language switch returns to the page as it is now (htmx may have changed the URL).
  document.querySelectorAll("form.langswitch").forEach(function (form) {
    form.addEventListener("submit", function () {
      var next = form.querySelector("input[name=next]");
      if (next) next.value = window.location.pathname + window.location.search;
    });
  });
})();
