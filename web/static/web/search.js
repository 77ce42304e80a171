/* Search forms (form[data-search]): one request per user action.

   htmx sends such a form on "submit" (Enter, the Search button) and on "search-changed",
   which this file fires: at once when a list is chosen or a box ticked (group by patient),
   and for a date once it is whole and the typing has paused. Typing a date fires a change for every digit of its year (0002,
   0020, 0202, 2025), and Enter in the text field fires a change before the submit: both used
   to send (and audit) a search each. A text field therefore searches on Enter only. */
(function () {
  "use strict";
  var DATE_PAUSE_MS = 600;
  // A year of four digits not starting with 0: the year has been typed to its end.
  var WHOLE_DATE = /^[1-9][0-9]{3}-[0-9]{2}-[0-9]{2}$/;

  document.querySelectorAll("form[data-search]").forEach(function (form) {
    var pending = null;
    var cancel = function () {
      if (pending) window.clearTimeout(pending);
      pending = null;
    };
    var send = function () {
      pending = null;
      window.htmx.trigger(form, "search-changed");
    };
    form.addEventListener("change", function (event) {
      var field = event.target;
      if (field.tagName === "SELECT" || field.type === "checkbox") {
        cancel();
        send();
      } else if (field.type === "date") {
        cancel();
        if (field.value === "" || WHOLE_DATE.test(field.value)) {
          pending = window.setTimeout(send, DATE_PAUSE_MS);
        }
      }
    });
    // The submit sends every field: a date waiting for its pause goes with it.
    form.addEventListener("submit", cancel);
  });
})();
