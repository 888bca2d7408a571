// grooming-risk reviewer workspace: reveal on demand, keyboard shortcuts. No dependencies.
(function () {
  "use strict";
  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var csrf = csrfMeta ? csrfMeta.getAttribute("content") : "";
  var list = document.querySelector(".messages[data-reveal-url]");
  var revealAllBtn = document.getElementById("reveal-all");
  var hideBtn = document.getElementById("hide-all");
  var errorBox = document.getElementById("reveal-error");

  function showError(message) {
    if (!errorBox) return;
    errorBox.textContent = message;
    errorBox.hidden = false;
  }

  function placeText(index, text) {
    var item = document.getElementById("m" + index);
    if (!item) return;
    var holder = item.querySelector(".text");
    var p = document.createElement("p");
    p.className = "text revealed";
    p.textContent = text; // never innerHTML: message text is untrusted
    holder.replaceWith(p);
    item.classList.add("is-revealed");
    item.classList.remove("is-hidden-again");
    var button = item.querySelector(".reveal-one");
    if (button) button.remove();
  }

  function reveal(indices) {
    if (!list) return;
    var body = new URLSearchParams();
    if (indices === "all") {
      body.set("all", "1");
    } else {
      indices.forEach(function (i) { body.append("index", String(i)); });
    }
    fetch(list.getAttribute("data-reveal-url"), {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRF-Token": csrf, "Accept": "application/json" },
      body: body
    }).then(function (response) {
      return response.json().then(function (data) { return { ok: response.ok, data: data }; });
    }).then(function (result) {
      if (!result.ok) {
        showError(result.data && result.data.detail ? result.data.detail : "Could not reveal the message.");
        return;
      }
      result.data.messages.forEach(function (m) { placeText(m.index, m.text); });
      noteReveal(indices === "all" ? "all messages" : "message " + indices.map(function (i) { return "#" + i; }).join(", "));
      if (hideBtn) hideBtn.hidden = false;
      if (errorBox) errorBox.hidden = true;
    }).catch(function () { showError("Could not reach the server."); });
  }

  // Show the reviewer at once that the reveal was recorded (the server wrote the audit entry).
  function noteReveal(what) {
    var activity = document.getElementById("activity-list");
    if (!activity) return;
    var li = document.createElement("li");
    var action = document.createElement("span");
    action.className = "act act-reveal";
    action.textContent = "reveal";
    var who = document.createElement("span");
    who.className = "small";
    who.textContent = "you";
    var detail = document.createElement("span");
    detail.className = "muted small";
    detail.textContent = what;
    var when = document.createElement("span");
    when.className = "muted small when";
    when.textContent = "just now";
    li.append(action, " ", who, " ", detail, " ", when);
    activity.prepend(li);
  }

  function hideAll() {
    document.querySelectorAll(".msg.is-revealed").forEach(function (item) { item.classList.toggle("is-hidden-again"); });
  }

  if (list) {
    list.addEventListener("click", function (event) {
      var button = event.target.closest(".reveal-one");
      if (button && !button.disabled) reveal([Number(button.getAttribute("data-index"))]);
    });
  }
  if (revealAllBtn) revealAllBtn.addEventListener("click", function () { if (!revealAllBtn.disabled) reveal("all"); });
  if (hideBtn) hideBtn.addEventListener("click", hideAll);

  var decisionKeys = { g: "confirmed_grooming", s: "confirmed_sextortion", n: "not_risky", r: "needs_second_review", e: "escalate" };
  document.addEventListener("keydown", function (event) {
    var form = document.getElementById("decision-form");
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && form) {
      event.preventDefault();
      if (form.reportValidity()) form.submit();
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.target.closest && event.target.closest("input, textarea, select")) return;
    var key = event.key;
    if (decisionKeys[key] && form) {
      var radio = form.querySelector('input[name="decision"][value="' + decisionKeys[key] + '"]');
      if (radio) { radio.checked = true; radio.focus(); event.preventDefault(); }
    } else if (key === "v" && revealAllBtn && !revealAllBtn.disabled) {
      reveal("all");
    } else if (key === "h") {
      hideAll();
    } else if (key === "c") {
      var claim = document.getElementById("claim-form");
      if (claim) claim.submit();
    } else if (key === "?") {
      var help = document.getElementById("shortcuts");
      if (help) help.hidden = !help.hidden;
    }
  });
})();
