/* The practice chat: send a message, show the patient's reply as it streams (Server-Sent
   Events over a POST, read with fetch), a "typing" state, an error with a retry, and optional
   voice through the browser's own speech recognition and synthesis (feature-detected). */
(function () {
  "use strict";
  var chat = document.getElementById("chat");
  if (!chat) return;
  var config = JSON.parse(chat.dataset.chatConfig || "{}");
  var transcript = document.getElementById("transcript");
  var typing = document.getElementById("typing");
  var errorBox = document.getElementById("chat-error");
  var retryButton = document.getElementById("retry");
  var composer = document.getElementById("composer");
  var input = document.getElementById("say");
  var send = document.getElementById("send");
  var template = document.getElementById("bubble-template");
  var label = function (id) { var el = document.getElementById(id); return el ? el.textContent : ""; };
  var busy = false;

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (match) return decodeURIComponent(match[1]);
    var headers = document.body.getAttribute("hx-headers");
    try { return JSON.parse(headers)["X-CSRFToken"]; } catch (e) { return ""; }
  }

  function bubble(role, text) {
    var node = template.content.firstElementChild.cloneNode(true);
    node.classList.add(role);
    node.querySelector(".who").textContent = role === "user" ? label("label-you") : label("label-patient");
    node.querySelector(".text").textContent = text || "";
    transcript.appendChild(node);
    node.scrollIntoView({ block: "end" });
    return node;
  }

  function setBusy(value) {
    busy = value;
    if (send) send.disabled = value;
    if (input) input.disabled = value;
  }

  function showError(message) {
    errorBox.querySelector(".text").textContent = message || label("label-failed");
    errorBox.hidden = false;
  }

  // Reads "event: x\ndata: {...}\n\n" frames from a streamed fetch body.
  function readEvents(response, onEvent) {
    var reader = response.body.getReader();
    var decoder = new TextDecoder();
    var buffer = "";
    function pump() {
      return reader.read().then(function (chunk) {
        if (chunk.done) return;
        buffer += decoder.decode(chunk.value, { stream: true });
        var frames = buffer.split("\n\n");
        buffer = frames.pop();
        frames.forEach(function (frame) {
          var name = "message", data = "";
          frame.split("\n").forEach(function (line) {
            if (line.indexOf("event:") === 0) name = line.slice(6).trim();
            else if (line.indexOf("data:") === 0) data += line.slice(5).trim();
          });
          if (data) onEvent(name, JSON.parse(data));
        });
        return pump();
      });
    }
    return pump();
  }

  function stream(url, body) {
    setBusy(true);
    errorBox.hidden = true;
    typing.hidden = false;
    var reply = null;
    var failed = false;
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken(), "Accept": "text/event-stream" },
      body: JSON.stringify(body || {})
    }).then(function (response) {
      if (!response.ok || !response.body) {
        return response.json().then(function (data) { throw new Error(data.detail || ""); },
                                     function () { throw new Error(""); });
      }
      return readEvents(response, function (name, data) {
        if (name === "message" && data.role === "user") {
          var mine = transcript.querySelector(".bubble.user.pending");
          if (mine) { mine.classList.remove("pending"); mine.dataset.index = data.index; }
        } else if (name === "delta") {
          typing.hidden = true;
          if (!reply) reply = bubble("assistant", "");
          reply.querySelector(".text").textContent += data.text;
          reply.scrollIntoView({ block: "end" });
        } else if (name === "done") {
          if (!reply) reply = bubble("assistant", data.content);
          reply.querySelector(".text").textContent = data.content;
          reply.dataset.index = data.index;
          speak(data.content);
        } else if (name === "error") {
          failed = true;
          if (reply) { reply.remove(); reply = null; }
          showError(data.detail);
        }
      });
    }).catch(function (err) {
      failed = true;
      if (reply) { reply.remove(); reply = null; }
      showError(err && err.message);
    }).then(function () {
      typing.hidden = true;
      setBusy(false);
      if (!failed && input) input.focus();
    });
  }

  if (composer) {
    composer.addEventListener("submit", function (event) {
      event.preventDefault();
      var text = (input.value || "").trim();
      if (!text || busy) return;
      var mine = bubble("user", text);
      mine.classList.add("pending");
      input.value = "";
      stream(config.stream, { content: text });
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        composer.requestSubmit();
      }
    });
  }
  if (retryButton) retryButton.addEventListener("click", function () {
    if (!busy) stream(config.retry, {});
  });

  // ---- voice: the browser's own services only; nothing is sent to the server as audio.
  var Recognition = window.SpeechRecognition || window.webkitSpeechRecognition;
  var mic = document.getElementById("mic");
  var speakToggle = document.getElementById("speak-toggle");
  var speakBox = document.getElementById("speak");
  var note = document.getElementById("voice-note");
  var lang = config.language === "zh-hans" ? "zh-CN" : "en-GB";
  if (Recognition && mic) {
    var recognition = new Recognition();
    recognition.lang = lang;
    recognition.interimResults = false;
    recognition.onresult = function (event) {
      var said = event.results[0][0].transcript;
      input.value = (input.value ? input.value + " " : "") + said;
    };
    recognition.onend = function () { mic.setAttribute("aria-pressed", "false"); };
    // A browser may have the interface but no speech service (headless Chromium, offline):
    // say so once and offer typing instead.
    recognition.onerror = function () {
      mic.hidden = true;
      if (note) note.hidden = false;
    };
    mic.hidden = false;
    mic.addEventListener("click", function () {
      mic.setAttribute("aria-pressed", "true");
      recognition.start();
    });
  } else if (note && composer) {
    note.hidden = false;
  }
  if ("speechSynthesis" in window && speakToggle) speakToggle.hidden = false;
  // Tests (and anyone scripting the page) can wait for this before typing.
  chat.dataset.ready = "1";
  function speak(text) {
    if (!speakBox || !speakBox.checked || !("speechSynthesis" in window)) return;
    var utterance = new SpeechSynthesisUtterance(text);
    utterance.lang = lang;
    window.speechSynthesis.speak(utterance);
  }
})();
