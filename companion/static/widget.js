/*
 * Gentle Companion chat widget: dependency-free, accessible, embeddable.
 *
 *   <script src="https://companion.example/widget.js"
 *           data-api-base="https://companion.example"
 *           data-clinic-name="Clinic North" data-country="GB"></script>
 *
 * Optional: data-locale="en-GB" (default: browser language + data-country),
 * data-title="Talk to someone" (launcher label), data-open="true" (start open).
 *
 * - Anonymous token (POST /v1/widget/token) + session id kept in sessionStorage
 *   (gone when the tab closes); the token only sees this browser's conversation.
 * - Replies stream over Server-Sent Events (fetch + ReadableStream on
 *   POST /v1/chat/stream) into an ARIA live log; text is always inserted as
 *   text (never HTML).
 * - "Need help now?" is always visible and lists GET /v1/resources (tel:/sms: links).
 * - The AI disclosure is shown at the start; the conversation can be deleted.
 * - Keyboard: Tab through every control, Enter sends (Shift+Enter = new line),
 *   Escape closes the panel and returns focus to the launcher.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || window.__gentleCompanionWidget) { return; }
  window.__gentleCompanionWidget = true;

  var ds = script.dataset || {};
  var apiBase = (ds.apiBase || new URL(script.src, location.href).origin).replace(/\/+$/, "");
  var clinicName = ds.clinicName || "";
  var country = (ds.country || "").toUpperCase();
  var lang = (navigator.language || "en").split("-")[0];
  var locale = ds.locale || (country ? lang + "-" + country : (navigator.language || "en-US"));
  var storageKey = "gentle-companion:" + apiBase;
  var uid = "gcw" + Math.random().toString(36).slice(2, 8);

  // ------------------------------------------------------------------ state
  function load() {
    try { return JSON.parse(sessionStorage.getItem(storageKey) || "{}") || {}; } catch (e) { return {}; }
  }
  function save() {
    try { sessionStorage.setItem(storageKey, JSON.stringify(state)); } catch (e) { /* private mode */ }
  }
  var state = load();
  var busy = false;

  // ------------------------------------------------------------------ DOM helpers
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") { node.textContent = attrs[k]; }
      else if (k === "class") { node.className = attrs[k]; }
      else if (attrs[k] !== null && attrs[k] !== undefined) { node.setAttribute(k, attrs[k]); }
    });
    (children || []).forEach(function (c) { if (c) { node.appendChild(c); } });
    return node;
  }

  var css = el("link", { rel: "stylesheet", href: apiBase + "/widget.css" });
  document.head.appendChild(css);

  var title = clinicName ? "Companion \u00b7 " + clinicName : "Companion";
  var launcher = el("button", {
    type: "button", class: "gcw-launcher", "aria-expanded": "false", "aria-controls": uid + "-panel",
    text: ds.title || "Talk to Companion"
  });
  var closeBtn = el("button", { type: "button", class: "gcw-icon", "aria-label": "Close chat", text: "\u00d7" });
  var heading = el("h2", { id: uid + "-title", class: "gcw-title", text: title });
  var helpBtn = el("button", {
    type: "button", class: "gcw-help-toggle", "aria-expanded": "false", "aria-controls": uid + "-help",
    text: "Need help now?"
  });
  var helpPanel = el("div", { id: uid + "-help", class: "gcw-help", hidden: "hidden" });
  var disclosure = el("p", { class: "gcw-disclosure", id: uid + "-disclosure" });
  var log = el("div", {
    id: uid + "-log", class: "gcw-log", role: "log", "aria-live": "polite", "aria-relevant": "additions",
    "aria-label": "Conversation"
  });
  // disclosure + messages scroll together; focusable so keyboard users can scroll it
  var scroller = el("div", { class: "gcw-scroll", tabindex: "0", role: "region", "aria-label": "Conversation history" },
    [disclosure, log]);
  var status = el("p", { class: "gcw-status", role: "status", "aria-live": "polite" });
  var input = el("textarea", {
    id: uid + "-input", class: "gcw-input", rows: "2",
    "aria-describedby": uid + "-hint", autocomplete: "off"
  });
  var label = el("label", { for: uid + "-input", class: "gcw-label", text: "Your message" });
  var hint = el("p", { id: uid + "-hint", class: "gcw-hint", text: "Enter to send, Shift+Enter for a new line." });
  var sendBtn = el("button", { type: "submit", class: "gcw-send", text: "Send" });
  var form = el("form", { class: "gcw-form" }, [label, input, hint, sendBtn]);
  var deleteBtn = el("button", { type: "button", class: "gcw-link", text: "Delete conversation" });
  var confirmBox = el("div", { class: "gcw-confirm", role: "group", "aria-label": "Confirm deletion", hidden: "hidden" }, [
    el("span", { text: "Delete this conversation for good? " }),
    el("button", { type: "button", class: "gcw-danger", "data-action": "confirm-delete", text: "Delete" }),
    el("button", { type: "button", class: "gcw-link", "data-action": "cancel-delete", text: "Cancel" })
  ]);
  var panel = el("section", {
    id: uid + "-panel", class: "gcw-panel", role: "dialog", "aria-modal": "false",
    "aria-labelledby": uid + "-title", "aria-describedby": uid + "-disclosure", hidden: "hidden"
  }, [
    el("div", { class: "gcw-header" }, [heading, closeBtn]),
    el("div", { class: "gcw-helpbar" }, [helpBtn]),
    helpPanel, scroller, status, form,
    el("div", { class: "gcw-footer" }, [deleteBtn, confirmBox])
  ]);
  var root = el("div", { class: "gcw-root", lang: lang }, [panel, launcher]);
  document.body.appendChild(root);

  // ------------------------------------------------------------------ HTTP
  function problemText(body, res) {
    if (body && body.detail) { return body.detail; }
    return "Something went wrong (" + (res ? res.status : "network") + "). Please try again.";
  }

  function ensureToken() {
    if (state.token) { return Promise.resolve(state.token); }
    return fetch(apiBase + "/v1/widget/token", { method: "POST", headers: { "Accept": "application/json" } })
      .then(function (res) {
        return res.json().catch(function () { return {}; }).then(function (body) {
          if (!res.ok) { throw new Error(problemText(body, res)); }
          state.token = body.token;
          state.disclosure = body.disclosure;
          save();
          showDisclosure();
          return state.token;
        });
      });
  }

  function authHeaders(extra) {
    var h = { "Authorization": "Bearer " + state.token };
    Object.keys(extra || {}).forEach(function (k) { h[k] = extra[k]; });
    return h;
  }

  // ------------------------------------------------------------------ resources
  function resourceLinks(rs) {
    var list = el("ul", { class: "gcw-resources" });
    if (!rs) { return list; }
    if (rs.emergency_number) {
      list.appendChild(el("li", {}, [
        el("span", { text: "Emergency: " }),
        el("a", { href: "tel:" + rs.emergency_number.replace(/[^0-9+]/g, ""), text: "call " + rs.emergency_number })
      ]));
    }
    (rs.resources || []).forEach(function (r) {
      var parts = [el("strong", { text: r.name })];
      if (r.phone) {
        parts.push(el("span", { text: " \u2014 " }));
        parts.push(el("a", { href: "tel:" + r.phone.replace(/[^0-9+]/g, ""), text: "call " + r.phone }));
      }
      if (r.sms) {
        parts.push(el("span", { text: " \u2014 " }));
        var body = r.sms_keyword ? "?body=" + encodeURIComponent(r.sms_keyword) : "";
        parts.push(el("a", { href: "sms:" + r.sms.replace(/[^0-9+]/g, "") + body,
          text: "text " + (r.sms_keyword ? r.sms_keyword + " to " : "") + r.sms }));
      }
      var web = r.chat_url || r.url;
      if (web && /^https?:\/\//.test(web)) {
        parts.push(el("span", { text: " \u2014 " }));
        parts.push(el("a", { href: web, target: "_blank", rel: "noopener noreferrer", text: r.chat_url ? "chat online" : "website" }));
      }
      if (r.hours) { parts.push(el("span", { class: "gcw-hours", text: " (" + r.hours + ")" })); }
      list.appendChild(el("li", {}, parts));
    });
    return list;
  }

  var resourcesLoaded = false;
  function loadResources() {
    if (resourcesLoaded) { return Promise.resolve(); }
    var q = country ? "country=" + encodeURIComponent(country) : "locale=" + encodeURIComponent(locale);
    helpPanel.textContent = "Loading\u2026";
    return fetch(apiBase + "/v1/resources?" + q).then(function (res) {
      return res.json().then(function (body) {
        if (!res.ok) { throw new Error(problemText(body, res)); }
        helpPanel.textContent = "";
        helpPanel.appendChild(el("p", { text: "If you are in danger or might act on thoughts of harming yourself, please reach out now. These services are free and confidential:" }));
        helpPanel.appendChild(resourceLinks(body));
        resourcesLoaded = true;
      });
    }).catch(function () {
      helpPanel.textContent = "Could not load the list. If you are in danger, call your local emergency number now.";
    });
  }

  function toggleHelp(open) {
    var show = open === undefined ? helpPanel.hidden : open;
    helpPanel.hidden = !show;
    helpBtn.setAttribute("aria-expanded", show ? "true" : "false");
    if (show) { loadResources(); }
  }

  // ------------------------------------------------------------------ messages
  function addMessage(role, text, extraClass) {
    var who = role === "user" ? "You" : "Companion";
    var body = el("p", { class: "gcw-text", text: text || "" });
    var item = el("div", { class: "gcw-msg gcw-" + role + (extraClass ? " " + extraClass : "") }, [
      el("span", { class: "gcw-who", text: who + ": " }), body
    ]);
    log.appendChild(item);
    scroller.scrollTop = scroller.scrollHeight;
    return { item: item, body: body };
  }

  function finishReply(msg, reply) {
    if (!reply) { return; }
    if (reply.reply && msg.body.textContent.trim() !== reply.reply.trim()) { msg.body.textContent = reply.reply; }
    var level = reply.level || "none";
    msg.item.setAttribute("data-level", level);
    if (level === "crisis" || level === "emergency") {
      msg.item.classList.add("gcw-crisis");
      var box = el("div", { class: "gcw-crisis-resources", role: "group", "aria-label": "People you can reach right now" }, [
        el("p", { class: "gcw-crisis-title", text: "People you can reach right now:" }),
        resourceLinks(reply.resources)
      ]);
      msg.item.appendChild(box);
    }
    if (reply.sources && reply.sources.length) {
      var src = el("ul", { class: "gcw-sources", "aria-label": "Sources" });
      reply.sources.forEach(function (s) { src.appendChild(el("li", { text: "[" + s.number + "] " + s.title })); });
      msg.item.appendChild(src);
    }
    if (reply.session_id) { state.sessionId = reply.session_id; save(); }
  }

  function parseSSE(buffer, onEvent) {
    var parts = buffer.split(/\r\n\r\n|\n\n|\r\r/);
    var rest = parts.pop();
    parts.forEach(function (block) {
      var ev = "message", data = [];
      block.split(/\r\n|\n|\r/).forEach(function (line) {
        if (line.indexOf("event:") === 0) { ev = line.slice(6).trim(); }
        else if (line.indexOf("data:") === 0) { data.push(line.slice(5).replace(/^ /, "")); }
      });
      if (data.length) { onEvent(ev, data.join("\n")); }
    });
    return rest;
  }

  function streamTurn(text, retried) {
    var payload = { message: text, locale: locale };
    if (state.sessionId) { payload.session_id = state.sessionId; }
    return ensureToken().then(function () {
      return fetch(apiBase + "/v1/chat/stream", {
        method: "POST",
        headers: authHeaders({ "Content-Type": "application/json", "Accept": "text/event-stream" }),
        body: JSON.stringify(payload)
      });
    }).then(function (res) {
      if (!res.ok) {
        return res.json().catch(function () { return {}; }).then(function (body) {
          if (!retried && res.status === 401) { state.token = null; state.sessionId = null; save(); return streamTurn(text, true); }
          if (!retried && res.status === 404 && state.sessionId) { state.sessionId = null; save(); return streamTurn(text, true); }
          var msg = problemText(body, res);
          if (res.status === 429) { msg = "You're sending messages quickly. " + msg; }
          throw Object.assign(new Error(msg), { problem: body });
        });
      }
      if (status.textContent === "Companion is replying\u2026") { status.textContent = ""; }
      var msg = addMessage("assistant", "");
      log.setAttribute("aria-busy", "true");
      var reader = res.body.getReader();
      var decoder = new TextDecoder();
      var buffer = "";
      var finalReply = null;
      function onEvent(ev, data) {
        var obj;
        try { obj = JSON.parse(data); } catch (e) { return; }
        if (ev === "token") { msg.body.textContent += obj.text; scroller.scrollTop = scroller.scrollHeight; }
        else if (ev === "reply") { finalReply = obj; }
        else if (ev === "error") {
          status.textContent = problemText(obj);
          if (obj.resources) { msg.item.appendChild(resourceLinks(obj.resources)); }
        }
      }
      function pump() {
        return reader.read().then(function (chunk) {
          if (chunk.done) {
            buffer = parseSSE(buffer + decoder.decode() + "\n\n", onEvent);
            log.setAttribute("aria-busy", "false");
            finishReply(msg, finalReply);
            return finalReply;
          }
          buffer = parseSSE(buffer + decoder.decode(chunk.value, { stream: true }), onEvent);
          return pump();
        });
      }
      return pump();
    });
  }

  function send(text) {
    if (busy || !text.trim()) { return; }
    busy = true;
    sendBtn.disabled = true;
    status.textContent = "Companion is replying\u2026";
    addMessage("user", text);
    input.value = "";
    streamTurn(text, false).catch(function (err) {
      log.setAttribute("aria-busy", "false");
      status.textContent = (err && err.message) || "Could not reach the companion. If you are in danger, call your local emergency number now.";
      if (err && err.problem && err.problem.resources) { toggleHelp(true); }
    }).then(function () {
      busy = false;
      sendBtn.disabled = false;
      input.focus();
    });
  }

  function deleteConversation() {
    confirmBox.hidden = true;
    deleteBtn.hidden = false;
    var done = function () {
      state.sessionId = null;
      save();
      log.textContent = "";
      status.textContent = "The conversation was deleted.";
      input.focus();
    };
    if (!state.sessionId || !state.token) { done(); return; }
    fetch(apiBase + "/v1/sessions/" + encodeURIComponent(state.sessionId), {
      method: "DELETE", headers: authHeaders()
    }).then(function (res) {
      if (res.ok || res.status === 404) { done(); return; }
      return res.json().catch(function () { return {}; }).then(function (body) {
        status.textContent = "Could not delete the conversation: " + problemText(body, res);
      });
    }).catch(function () { status.textContent = "Could not reach the server to delete the conversation."; });
  }

  function showDisclosure() {
    disclosure.textContent = state.disclosure ||
      "I'm Companion, an AI, not a therapist or an emergency service. If you are in danger, please call your local emergency number.";
  }

  function setOpen(open) {
    panel.hidden = !open;
    launcher.setAttribute("aria-expanded", open ? "true" : "false");
    launcher.hidden = open;
    if (open) {
      showDisclosure();
      ensureToken().catch(function (err) { status.textContent = err.message; });
      input.focus();
    } else {
      launcher.focus();
    }
  }

  // ------------------------------------------------------------------ events
  launcher.addEventListener("click", function () { setOpen(true); });
  closeBtn.addEventListener("click", function () { setOpen(false); });
  helpBtn.addEventListener("click", function () { toggleHelp(); });
  panel.addEventListener("keydown", function (e) { if (e.key === "Escape") { setOpen(false); } });
  form.addEventListener("submit", function (e) { e.preventDefault(); send(input.value); });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); send(input.value); }
  });
  deleteBtn.addEventListener("click", function () {
    deleteBtn.hidden = true;
    confirmBox.hidden = false;
    confirmBox.querySelector("[data-action=confirm-delete]").focus();
  });
  confirmBox.addEventListener("click", function (e) {
    var action = e.target && e.target.getAttribute("data-action");
    if (action === "confirm-delete") { deleteConversation(); }
    if (action === "cancel-delete") { confirmBox.hidden = true; deleteBtn.hidden = false; deleteBtn.focus(); }
  });

  showDisclosure();
  if (ds.open === "true") { setOpen(true); }
})();
