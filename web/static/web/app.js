/* Small behaviours of the web UI. The pages work without this file; it adds the idle logoff
   timer and keeps the language switch on the current URL after htmx updated it. */
(function () {
  "use strict";

  // Automatic logoff: the server signs an idle session out (web.middleware); this timer makes
  // a page that was left open go back to the server then, so no patient data stays on screen.
  var idle = parseInt(document.body.dataset.idleSeconds || "", 10);
  var timer = null;
  function armIdleTimer() {
    if (!idle) return;
    if (timer) window.clearTimeout(timer);
    timer = window.setTimeout(function () { window.location.reload(); }, (idle + 5) * 1000);
  }
  armIdleTimer();
  document.body.addEventListener("htmx:beforeRequest", function (event) {
    // Background polling (elements marked data-poll) is not activity.
    var elt = event.detail && event.detail.elt;
    if (!(elt && elt.closest && elt.closest("[data-poll]"))) armIdleTimer();
  });

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
