/* The scenario form: add and remove fact rows, and the "try it" chat that plays the patient
   from the form as it is now (POST /api/v1/practice/try, streamed; nothing is stored). */
(function () {
  "use strict";
  var facts = document.getElementById("facts");
  var template = document.getElementById("fact-template");
  var add = document.getElementById("add-fact");
  if (add && facts && template) {
    add.addEventListener("click", function () {
      facts.appendChild(template.content.firstElementChild.cloneNode(true));
    });
    facts.addEventListener("click", function (event) {
      var button = event.target.closest("[data-remove-fact]");
      if (button && facts.children.length > 1) button.closest(".fact").remove();
    });
  }

  var panel = document.getElementById("try");
  var form = document.getElementById("scenario-form");
  if (!panel || !form) return;
  var config = JSON.parse(panel.dataset.tryConfig || "{}");
  var list = document.getElementById("try-transcript");
  var errorBox = document.getElementById("try-error");
  var input = document.getElementById("try-say");
  var history = [];
  var label = function (id) { var el = document.getElementById(id); return el ? el.textContent : ""; };
  function value(name) { var el = form.elements[name]; return el ? el.value.trim() : ""; }
  function lines(text) { return text.split("\n").map(function (l) { return l.trim(); }).filter(Boolean); }

  // The same case sheet the server builds from the form (web.practice_authoring.case_from_form).
  function caseSheet() {
    var rows = [];
    facts.querySelectorAll(".fact").forEach(function (row) {
      var answer = row.querySelector("[name=fact_answer]").value.trim();
      var questions = lines(row.querySelector("[name=fact_questions]").value);
      if (!answer && !questions.length) return;
      var fact = { topic: row.querySelector("[name=fact_topic]").value, answer: answer,
                   volunteer: row.querySelector("[name=fact_volunteer]").value === "yes" };
      if (questions.length) fact.questions = questions;
      rows.push(fact);
    });
    return { opening: value("opening"), unknown_answer: value("unknown_answer"),
             empathy_answer: value("empathy_answer"), facts: rows };
  }
  function csrfToken() {
    var el = form.querySelector("[name=csrfmiddlewaretoken]");
    return el ? el.value : "";
  }
  function bubble(role, text) {
    var li = document.createElement("li");
    li.className = "bubble " + role;
    var who = document.createElement("span"); who.className = "who";
    who.textContent = role === "user" ? label("label-you") : label("label-patient");
    var body = document.createElement("span"); body.className = "text"; body.textContent = text;
    li.appendChild(who); li.appendChild(body); list.appendChild(li);
    return body;
  }
  panel.dataset.ready = "1";
  document.getElementById("try-reset").addEventListener("click", function () {
    history = []; list.textContent = ""; errorBox.hidden = true;
  });
  document.getElementById("try-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text) return;
    input.value = "";
    errorBox.hidden = true;
    bubble("user", text);
    history.push({ role: "user", content: text });
    var reply = bubble("assistant", "");
    fetch(config.url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify({ scenario_text: value("scenario_text"), language: value("language") || "en",
                             case: caseSheet(), messages: history })
    }).then(function (response) {
      if (!response.ok) return response.json().then(function (d) {
        throw new Error(typeof d.detail === "string" ? d.detail : JSON.stringify(d.detail));
      });
      return response.text();
    }).then(function (body) {
      body.split("\n\n").forEach(function (frame) {
        var name = "", data = "";
        frame.split("\n").forEach(function (line) {
          if (line.indexOf("event:") === 0) name = line.slice(6).trim();
          else if (line.indexOf("data:") === 0) data += line.slice(5).trim();
        });
        if (!data) return;
        var payload = JSON.parse(data);
        if (name === "done") { reply.textContent = payload.content; history.push({ role: "assistant", content: payload.content }); }
        else if (name === "delta") reply.textContent += payload.text;
        else if (name === "error") throw new Error(payload.detail);
      });
    }).catch(function (err) {
      reply.parentNode.remove();
      history.pop();
      errorBox.textContent = err.message;
      errorBox.hidden = false;
    });
  });
})();
