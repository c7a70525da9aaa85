/* The exam-taking page.

   - The server owns the deadline: the countdown is deadline - (local clock + server offset),
     re-synchronised every minute and whenever the tab becomes visible again.
   - Every answer is saved on change (text debounced), one request per slot at a time, with a
     per-slot client_seq that only grows (Date.now()-based, and never below what the server or
     this device's localStorage already saw), so a reload or a retry can never overwrite a newer
     answer with an older one.
   - Unsaved answers are kept in localStorage and retried until they are stored, but only while
     the failure is transient (network, 5xx, 408/425/429; Retry-After honoured, backoff with
     jitter). A save the server refuses for good (any other 4xx) is not retried: the candidate is
     told which question and why, and editing that answer sends it again. */
"use strict";

(function () {
  var DEBOUNCE_MS = 400;
  var RESYNC_MS = 60 * 1000;
  var MAX_BACKOFF_MS = 30 * 1000;
  var FLUSH_TIMEOUT_MS = 10 * 1000;
  var MAX_RETRY_AFTER_MS = 5 * 60 * 1000;
  var TRANSIENT_4XX = { 408: true, 425: true, 429: true };

  var root = document.getElementById("exam-root");
  var examId = root.getAttribute("data-exam-id");
  var $ = function (id) { return document.getElementById(id); };

  var S = {
    attemptId: null, deadlineMs: 0, deadlineIso: "", offsetMs: 0,
    closed: false, submitted: false, slots: {}, order: [], tickTimer: null, resyncTimer: null
  };

  /* ---------- local copy of answers ---------- */

  function storageKey() { return "exam.attempt." + S.attemptId; }

  function localLoad() {
    try { return JSON.parse(localStorage.getItem(storageKey()) || "{}"); } catch (e) { return {}; }
  }

  function localWrite(slot, saved) {
    var data = localLoad();
    data[slot.id] = { seq: slot.seq, response: slot.response, saved: saved };
    try { localStorage.setItem(storageKey(), JSON.stringify(data)); } catch (e) { /* storage full: server copy only */ }
  }

  function localClear() { localStorage.removeItem(storageKey()); }

  /* ---------- server clock and countdown ---------- */

  function serverNow() { return Date.now() + S.offsetMs; }

  function applyTiming(data, sentAt, receivedAt) {
    S.offsetMs = Date.parse(data.server_time) - (sentAt + receivedAt) / 2;
    S.deadlineMs = Date.parse(data.deadline);
    S.deadlineIso = data.deadline;
    var deadline = $("deadline");
    deadline.setAttribute("data-deadline", data.deadline);
    deadline.setAttribute("datetime", data.deadline);
    deadline.textContent = formatDateTime(new Date(S.deadlineMs));
  }

  function pad(n) { return n < 10 ? "0" + n : String(n); }

  function formatRemaining(ms) {
    var total = Math.max(0, Math.ceil(ms / 1000));
    var h = Math.floor(total / 3600), m = Math.floor((total % 3600) / 60), s = total % 60;
    return (h ? h + ":" + pad(m) : pad(m)) + ":" + pad(s);
  }

  function tick() {
    var remaining = S.deadlineMs - serverNow();
    var countdown = $("countdown");
    countdown.textContent = formatRemaining(remaining);
    countdown.setAttribute("data-remaining-ms", String(Math.max(0, Math.round(remaining))));
    $("timer").classList.toggle("warn", remaining < 5 * 60 * 1000);
    if (remaining <= 0 && !S.closed) { closeAttempt("time"); }
  }

  function startClock() {
    tick();
    S.tickTimer = setInterval(tick, 250);
    S.resyncTimer = setInterval(resync, RESYNC_MS);
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "visible") { resync(); }
    });
  }

  function resync() {
    if (S.submitted || !S.attemptId) { return; }
    var sentAt = Date.now();
    api("GET", "/api/attempts/" + S.attemptId).then(function (result) {
      if (!result.ok) { return; }
      setOnline(true);
      applyTiming(result.data, sentAt, Date.now());
      if (result.data.state !== "in_progress") { closeAttempt("closed"); }
      tick();
    }, function (err) { if (!(err instanceof AuthError)) { setOnline(false); } });
  }

  /* ---------- connection indicator ---------- */

  function setOnline(online) {
    var node = $("connection");
    if (node.getAttribute("data-online") === String(online)) { return; }
    node.setAttribute("data-online", String(online));
    node.textContent = online ? T.online : T.offline;
    if (online) { retryAllNow(); }
  }

  /* ---------- rendering the paper ---------- */

  function optionInput(slot, type, value, label, index) {
    var id = "s" + slot.id + "-" + index;
    var input = el("input", { type: type, id: id, name: "slot-" + slot.id, value: value });
    slot.inputs.push(input);
    return el("label", { "class": "choice", "for": id }, [input, el("span", { text: label })]);
  }

  function choiceInputs(slot, type) {
    return slot.content.options.map(function (option, i) {
      return optionInput(slot, type, option.id, (option.label || option.id) + ". " + option.text, i);
    });
  }

  function trueFalseInputs(slot) {
    return [optionInput(slot, "radio", "true", T["true"], 0), optionInput(slot, "radio", "false", T["false"], 1)];
  }

  function blankInputs(slot) {
    var count = Number(slot.content.blanks) || 1;
    var rows = [];
    for (var i = 0; i < count; i++) {
      var id = "s" + slot.id + "-b" + i;
      var input = el("input", { type: "text", id: id, "class": "text-input", "data-text": "1", maxlength: "500" });
      slot.inputs.push(input);
      rows.push(el("div", { "class": "blank" }, [el("label", { "for": id, text: fmt("blank", { n: i + 1 }) }), input]));
    }
    return rows;
  }

  function numericInputs(slot) {
    var id = "s" + slot.id + "-n";
    var input = el("input", { type: "number", id: id, step: "any", inputmode: "decimal", "class": "text-input num",
                              "data-text": "1" });
    slot.inputs.push(input);
    var unit = slot.content.unit ? el("span", { "class": "unit", text: slot.content.unit }) : null;
    return [el("div", { "class": "blank" }, [el("label", { "for": id, text: T.answer }), input, unit])];
  }

  function textInputs(slot) {
    var id = "s" + slot.id + "-t";
    var max = slot.content.max_chars;
    var area = el("textarea", { id: id, rows: slot.type === "essay" ? "10" : "5", "class": "text-input",
                                "data-text": "1", maxlength: max ? String(max) : null });
    slot.inputs.push(area);
    var counter = max ? el("span", { "class": "counter muted", "aria-live": "off" }) : null;
    slot.counter = counter;
    return [el("label", { "for": id, "class": "visually-hidden", text: T.answer }), area, counter];
  }

  /* The text an option shows: its printed label (after shuffling) when it has one. */
  function optionText(option) { return option.label ? option.label + ". " + option.text : option.text; }

  function choiceSelect(id, options, label) {
    var select = el("select", { id: id, "aria-label": label || null },
                    [el("option", { value: "", text: T.choose })]);
    options.forEach(function (o) { select.appendChild(el("option", { value: o.id, text: optionText(o) })); });
    return select;
  }

  /* matching: one drop-down of the choices per prompt; response {prompt id: choice id}. */
  function matchingInputs(slot) {
    var choices = slot.content.choices || [];
    return (slot.content.prompts || []).map(function (prompt, i) {
      var id = "s" + slot.id + "-m" + i;
      var select = choiceSelect(id, choices, null);
      select.setAttribute("data-prompt", prompt.id);
      slot.inputs.push(select);
      return el("div", { "class": "match-row" }, [el("label", { "for": id, text: optionText(prompt) }), select]);
    });
  }

  /* ordering: a list with up/down buttons; response is the list of item ids once the student
     has moved something (or confirmed the order as shown). */
  function orderingInputs(slot) {
    var items = slot.content.items || [];
    slot.initialOrder = items.map(function (item) { return item.id; });
    slot.sequence = slot.initialOrder.slice();
    slot.touched = false;
    slot.rows = {};
    var list = el("ol", { "class": "order-list", id: "s" + slot.id + "-order", "aria-describedby": "s" + slot.id + "-ohint" });
    items.forEach(function (item) {
      var text = el("span", { "class": "order-text", text: item.text });
      var up = el("button", { type: "button", "class": "btn", "aria-label": fmt("move_up_item", { text: item.text }),
                              text: "↑ " + T.move_up });
      var down = el("button", { type: "button", "class": "btn", "aria-label": fmt("move_down_item", { text: item.text }),
                                text: "↓ " + T.move_down });
      var row = el("li", { "data-order-id": item.id }, [text, up, down]);
      up.addEventListener("click", function () { moveOrderItem(slot, item, -1, up, down); });
      down.addEventListener("click", function () { moveOrderItem(slot, item, 1, down, up); });
      slot.rows[item.id] = { row: row, up: up, down: down };
      slot.inputs.push(up, down);
      list.appendChild(row);
    });
    var keep = el("button", { type: "button", "class": "btn btn-link", text: T.keep_order });
    keep.addEventListener("click", function () {
      if (S.closed) { return; }
      slot.touched = true;
      onEdit(slot, 0);
    });
    slot.inputs.push(keep);
    slot.keepButton = keep;
    slot.orderList = list;
    slot.announce = el("span", { "class": "visually-hidden", "aria-live": "polite" });
    layoutOrder(slot);
    return [list, el("div", { "class": "order-actions" }, [
      el("span", { id: "s" + slot.id + "-ohint", "class": "hint", text: T.order_hint }), keep, slot.announce])];
  }

  function moveOrderItem(slot, item, step, pressed, other) {
    if (S.closed) { return; }
    var from = slot.sequence.indexOf(item.id);
    var to = from + step;
    if (from < 0 || to < 0 || to >= slot.sequence.length) { return; }
    slot.sequence.splice(from, 1);
    slot.sequence.splice(to, 0, item.id);
    slot.touched = true;
    layoutOrder(slot);
    slot.announce.textContent = fmt("moved_to", { text: item.text, n: to + 1 });
    (pressed.disabled ? other : pressed).focus();
    onEdit(slot, 0);
  }

  function layoutOrder(slot) {
    var last = slot.sequence.length - 1;
    slot.sequence.forEach(function (id, index) {
      var parts = slot.rows[id];
      slot.orderList.appendChild(parts.row);   // appending in sequence order rearranges the list
      parts.up.disabled = S.closed || index === 0;
      parts.down.disabled = S.closed || index === last;
    });
    slot.keepButton.hidden = slot.touched;
  }

  /* inline_choice: a drop-down per gap, inside the stem where it says [[1]], [[2]]… (else below). */
  var GAP_MARKER = /\[\[(\d+)\]\]/g;

  function inlineChoiceInputs(slot) {
    var gaps = slot.content.gaps || [];
    var selects = gaps.map(function (gap, i) {
      var select = choiceSelect("s" + slot.id + "-g" + i, gap.options || [], fmt("blank", { n: i + 1 }));
      select.setAttribute("data-gap", String(i));
      select.className = "inline-gap";
      return select;
    });
    slot.inputs = selects.slice();
    var placed = {};
    var parts = [];
    var at = 0;
    var stem = slot.stem || "";
    stem.replace(GAP_MARKER, function (marker, n, offset) {
      var index = Number(n) - 1;
      if (index < 0 || index >= selects.length || placed[index]) { return marker; }
      parts.push(document.createTextNode(stem.slice(at, offset)));
      parts.push(selects[index]);
      placed[index] = true;
      at = offset + marker.length;
      return marker;
    });
    if (parts.length) {
      parts.push(document.createTextNode(stem.slice(at)));
      slot.stemNodes = parts;
    }
    return selects.map(function (select, i) {
      if (placed[i]) { return null; }
      select.className = "";
      select.removeAttribute("aria-label");
      return el("div", { "class": "gap-row" }, [el("label", { "for": select.id, text: fmt("blank", { n: i + 1 }) }), select]);
    }).filter(Boolean);
  }

  /* Pictures in stems: ![alt](media:NAME) -> <img> from the signed link the server gave;
     gap markers [[n]] left in the text (fill-in items) read as a numbered blank. */
  var MEDIA_REF = /!\[([^\]]*)\]\(media:([^)]+)\)/g;

  function withPictures(nodes, media) {
    var out = [];
    nodes.forEach(function (node) {
      if (node.nodeType !== 3) { out.push(node); return; }
      var text = node.textContent.replace(GAP_MARKER, function (_, n) { return " ____(" + n + ") "; });
      var at = 0;
      text.replace(MEDIA_REF, function (match, alt, name, offset) {
        var found = (media || []).filter(function (m) { return m.name === name; })[0];
        if (!found || !found.url) { return match; }
        out.push(document.createTextNode(text.slice(at, offset)));
        out.push(el("img", { "class": "stem-img", src: found.url, alt: alt || name, loading: "lazy" }));
        at = offset + match.length;
        return match;
      });
      out.push(document.createTextNode(text.slice(at)));
    });
    return out;
  }

  var RENDERERS = {
    single_choice: function (slot) { return choiceInputs(slot, "radio"); },
    multiple_choice: function (slot) { return choiceInputs(slot, "checkbox"); },
    true_false: trueFalseInputs,
    fill_blank: blankInputs,
    numeric: numericInputs,
    short_answer: textInputs,
    essay: textInputs,
    matching: matchingInputs,
    ordering: orderingInputs,
    inline_choice: inlineChoiceInputs
  };

  function renderSlot(slot, number) {
    var render = RENDERERS[slot.type] || textInputs;
    slot.stateEl = el("span", { "class": "save-state", "data-slot-id": slot.id, "data-state": "none",
                                role: "status" });
    slot.number = number;
    slot.refusalEl = el("p", { "class": "save-refused", "data-slot-id": slot.id, role: "alert", hidden: true });
    var legend = el("legend", {}, [
      el("span", { "class": "q-number", text: fmt("question", { n: number }) }),
      el("span", { "class": "q-points", text: fmt("points", { n: slot.points }) })
    ]);
    var answers = render(slot);   // may put inputs into the stem (slot.stemNodes)
    var nodes = slot.stemNodes || [document.createTextNode(slot.stem || "")];
    var stem = el("p", { "class": "stem", id: "stem-" + slot.id }, withPictures(nodes, slot.media));
    var fieldset = el("fieldset", { "class": "item item-" + slot.type, id: "item-" + slot.id,
                                    "data-slot-id": slot.id, "aria-describedby": "stem-" + slot.id }, [
      legend,
      stem,
      el("div", { "class": "answers" }, answers),
      el("div", { "class": "item-foot" }, [slot.stateEl]),
      slot.refusalEl
    ]);
    slot.inputs.forEach(function (input) { bindInput(slot, input); });
    return fieldset;
  }

  function renderPaper(paper) {
    var form = $("paper");
    var number = 0;
    paper.sections.forEach(function (section, index) {
      var heading = el("h2", { "class": "section-title", id: "section-" + index, text: section.title });
      var container = el("section", { "class": "section", "aria-labelledby": "section-" + index }, [heading]);
      section.slots.forEach(function (raw) {
        var slot = { id: raw.slot_id, type: raw.type, stem: raw.stem, points: raw.points, content: raw.content || {},
                     media: raw.media || [],
                     inputs: [], seq: 0, savedSeq: 0, rejectedSeq: -1, response: null, inflight: false,
                     debounce: null, retryTimer: null, retries: 0 };
        S.slots[slot.id] = slot;
        S.order.push(slot);
        number += 1;
        container.appendChild(renderSlot(slot, number));
      });
      form.appendChild(container);
    });
  }

  /* ---------- reading and writing input values ---------- */

  function readResponse(slot) {
    var inputs = slot.inputs;
    switch (slot.type) {
      case "single_choice":
        var picked = inputs.filter(function (i) { return i.checked; })[0];
        return picked ? picked.value : null;
      case "multiple_choice":
        var ids = inputs.filter(function (i) { return i.checked; }).map(function (i) { return i.value; });
        return ids.length ? ids : null;
      case "true_false":
        var tf = inputs.filter(function (i) { return i.checked; })[0];
        return tf ? tf.value === "true" : null;
      case "fill_blank":
        var texts = inputs.map(function (i) { return i.value; });
        return texts.some(function (v) { return v.trim() !== ""; }) ? texts : null;
      case "numeric":
        var n = inputs[0].valueAsNumber;
        return isNaN(n) ? null : n;
      case "matching":
        var pairs = {};
        inputs.forEach(function (i) { if (i.value) { pairs[i.getAttribute("data-prompt")] = i.value; } });
        return Object.keys(pairs).length ? pairs : null;
      case "ordering":
        return slot.touched ? slot.sequence.slice() : null;
      case "inline_choice":
        var picks = inputs.map(function (i) { return i.value || null; });
        return picks.some(function (v) { return v !== null; }) ? picks : null;
      default:
        return inputs[0].value === "" ? null : inputs[0].value;
    }
  }

  function writeResponse(slot, response) {
    var inputs = slot.inputs;
    switch (slot.type) {
      case "single_choice":
        inputs.forEach(function (i) { i.checked = i.value === response; });
        break;
      case "multiple_choice":
        inputs.forEach(function (i) { i.checked = Array.isArray(response) && response.indexOf(i.value) >= 0; });
        break;
      case "true_false":
        inputs.forEach(function (i) { i.checked = response !== null && i.value === String(response); });
        break;
      case "fill_blank":
        inputs.forEach(function (i, k) { i.value = Array.isArray(response) && response[k] != null ? response[k] : ""; });
        break;
      case "matching":
        inputs.forEach(function (i) {
          var choice = response && typeof response === "object" ? response[i.getAttribute("data-prompt")] : null;
          i.value = choice || "";
        });
        break;
      case "ordering":
        var valid = Array.isArray(response) && response.length === slot.initialOrder.length &&
          slot.initialOrder.every(function (id) { return response.indexOf(id) >= 0; });
        slot.sequence = valid ? response.slice() : slot.initialOrder.slice();
        slot.touched = valid;
        layoutOrder(slot);
        break;
      case "inline_choice":
        inputs.forEach(function (i, k) { i.value = Array.isArray(response) && response[k] ? response[k] : ""; });
        break;
      default:
        inputs[0].value = response === null || response === undefined ? "" : String(response);
    }
    slot.response = response;
    updateCounter(slot);
  }

  function updateCounter(slot) {
    if (!slot.counter) { return; }
    slot.counter.textContent = fmt("chars", { n: slot.inputs[0].value.length, max: slot.content.max_chars });
  }

  function isAnswered(slot) {
    var r = slot.response;
    return r !== null && r !== undefined && !(Array.isArray(r) && r.length === 0);
  }

  /* ---------- saving ---------- */

  function setSaveState(slot, state) {
    slot.stateEl.setAttribute("data-state", state);
    slot.stateEl.textContent = state === "none" ? "" : T["state_" + state];
  }

  function isPending(slot) { return slot.seq > slot.savedSeq && slot.seq !== slot.rejectedSeq; }

  function bindInput(slot, input) {
    var isText = input.getAttribute("data-text") === "1";
    input.addEventListener(isText ? "input" : "change", function () { onEdit(slot, isText ? DEBOUNCE_MS : 0); });
    if (isText) { input.addEventListener("blur", function () { if (slot.debounce) { send(slot); } }); }
  }

  function onEdit(slot, delay) {
    if (S.closed) { return; }
    slot.seq = Math.max(Date.now(), slot.seq + 1);
    slot.response = readResponse(slot);
    clearRefusal(slot);
    updateCounter(slot);
    localWrite(slot, false);
    if (!slot.inflight && !slot.retryTimer) { setSaveState(slot, "unsaved"); }
    clearTimeout(slot.debounce);
    slot.debounce = setTimeout(function () { send(slot); }, delay);
  }

  function send(slot) {
    clearTimeout(slot.debounce);
    slot.debounce = null;
    if (slot.inflight || S.closed || !isPending(slot)) { return; }
    clearTimeout(slot.retryTimer);
    slot.retryTimer = null;
    var seq = slot.seq;
    slot.inflight = true;
    setSaveState(slot, slot.retries ? "retrying" : "saving");
    api("PUT", "/api/attempts/" + S.attemptId + "/answers/" + slot.id, { response: slot.response, client_seq: seq })
      .then(function (result) { slot.inflight = false; onSaveResult(slot, seq, result); },
            function (err) { slot.inflight = false; onSaveError(slot, err); })
      .then(function () { if (isPending(slot) && !slot.debounce && !slot.retryTimer) { send(slot); } });
  }

  function onSaveResult(slot, seq, result) {
    var error = result.data && result.data.error;
    if (result.ok || error === "StaleSave") {
      // StaleSave: the server already holds this or a newer answer (another tab): it counts as saved.
      setOnline(true);
      markSaved(slot, seq);
    } else if (error === "AttemptClosed") {
      closeAttempt("closed");
    } else if (isPermanentRefusal(result.status)) {
      setOnline(true);
      refuse(slot, seq, result);
    } else {
      retryLater(slot, retryAfterMs(result.retryAfter));
    }
  }

  /* 4xx means "this request will never succeed as it is", except the ones that mean "not now". */
  function isPermanentRefusal(status) {
    return status >= 400 && status < 500 && !TRANSIENT_4XX[status];
  }

  function refusalReason(result) {
    var status = result.status;
    if (status === 413) { return T.refused_too_large; }
    if (status === 400 || status === 422) { return T.refused_invalid; }
    if (status === 403) { return T.refused_forbidden; }
    if (status === 404) { return T.refused_not_found; }
    if (status === 409) { return T.refused_conflict; }
    return fmt("refused_other", { status: status });
  }

  function refuse(slot, seq, result) {
    slot.rejectedSeq = seq;
    slot.retries = 0;
    setSaveState(slot, "rejected");
    slot.refusalEl.textContent = fmt("save_refused", { n: slot.number, reason: refusalReason(result) });
    slot.refusalEl.setAttribute("data-status", String(result.status));
    slot.refusalEl.setAttribute("data-error", (result.data && result.data.error) || "");
    slot.refusalEl.hidden = false;
    showRefusals();
  }

  /* One summary at the top lists every question whose answer the server refused. */
  function showRefusals() {
    var refused = S.order.filter(function (slot) { return !slot.refusalEl.hidden; });
    var box = $("save-problems");
    box.hidden = refused.length === 0;
    box.replaceChildren.apply(box, refused.map(function (slot) {
      var link = el("a", { href: "#item-" + slot.id, "data-slot-id": slot.id, text: slot.refusalEl.textContent });
      return el("p", {}, [link]);
    }));
  }

  function clearRefusal(slot) {
    if (slot.refusalEl.hidden) { return; }
    slot.refusalEl.hidden = true;
    slot.refusalEl.textContent = "";
    showRefusals();
  }

  function onSaveError(slot, err) {
    if (err instanceof AuthError) { sessionLost(); return; }
    setOnline(false);
    retryLater(slot, null);
  }

  function markSaved(slot, seq) {
    slot.savedSeq = Math.max(slot.savedSeq, seq);
    slot.retries = 0;
    if (!isPending(slot)) {
      setSaveState(slot, "saved");
      localWrite(slot, true);
    }
  }

  /* Retry-After is either seconds or an HTTP date; null when absent or unreadable. */
  function retryAfterMs(header) {
    if (!header) { return null; }
    var ms = /^\s*\d+\s*$/.test(header) ? Number(header) * 1000 : Date.parse(header) - Date.now();
    return isNaN(ms) ? null : Math.min(MAX_RETRY_AFTER_MS, Math.max(0, ms));
  }

  function retryLater(slot, serverDelayMs) {
    slot.retries += 1;
    var backoff = Math.min(MAX_BACKOFF_MS, 1000 * Math.pow(2, slot.retries - 1));
    // Jitter spreads a room of candidates so they do not all come back in the same instant;
    // the server's Retry-After is a floor, never shortened.
    var delay = serverDelayMs === null ? backoff / 2 + Math.random() * backoff / 2
                                       : serverDelayMs + Math.random() * 1000;
    setSaveState(slot, "retrying");
    clearTimeout(slot.retryTimer);
    slot.retryTimer = setTimeout(function () { slot.retryTimer = null; send(slot); }, delay);
  }

  function retryAllNow() {
    S.order.forEach(function (slot) { if (slot.retryTimer) { send(slot); } });
  }

  function flushAll() {
    S.order.forEach(function (slot) { if (isPending(slot)) { send(slot); } });
    var started = Date.now();
    return new Promise(function (resolve) {
      (function poll() {
        var pending = S.order.filter(isPending).length;
        if (pending === 0 || S.closed || Date.now() - started > FLUSH_TIMEOUT_MS) { resolve(pending); return; }
        setTimeout(poll, 100);
      })();
    });
  }

  /* ---------- restoring a resumed attempt ---------- */

  function restoreAnswers(serverAnswers) {
    var local = localLoad();
    var byId = {};
    serverAnswers.forEach(function (a) { byId[a.slot_id] = a; });
    S.order.forEach(function (slot) {
      var saved = byId[slot.id];
      var mine = local[slot.id];
      var serverSeq = saved ? saved.client_seq : 0;
      slot.seq = Math.max(serverSeq, mine ? mine.seq : 0);
      slot.savedSeq = serverSeq;
      if (mine && !mine.saved && mine.seq > serverSeq) {
        writeResponse(slot, mine.response);   // typed here but never stored: send it now
        setSaveState(slot, "unsaved");
      } else {
        slot.savedSeq = slot.seq;
        writeResponse(slot, saved ? saved.response : null);
        setSaveState(slot, saved ? "saved" : "none");
      }
    });
    S.order.forEach(function (slot) { if (isPending(slot)) { send(slot); } });
  }

  /* ---------- finishing ---------- */

  function stopEditing() {
    S.closed = true;
    S.order.forEach(function (slot) {
      clearTimeout(slot.debounce);
      clearTimeout(slot.retryTimer);
      slot.inputs.forEach(function (input) { input.disabled = true; });
    });
    $("submit-bar").hidden = true;
    closeDialog();
  }

  function closeAttempt(reason) {
    if (S.closed) { return; }
    stopEditing();
    var notice = $("notice");
    notice.hidden = false;
    notice.setAttribute("data-kind", reason);
    notice.replaceChildren(el("strong", { text: T.time_up_title }),
                           el("p", { text: reason === "time" ? T.time_up_body : T.attempt_closed_body }));
    if (reason === "time") { setTimeout(resync, 3000); }
  }

  function showSubmitted(finishedAt) {
    stopEditing();
    S.submitted = true;
    clearInterval(S.tickTimer);
    clearInterval(S.resyncTimer);
    localClear();
    ["paper", "exam-head", "notice", "exam-status"].forEach(function (id) { $(id).hidden = true; });
    $("finished-at").textContent = finishedAt ? T.finished_at + " " + formatDateTime(new Date(finishedAt)) : "";
    var view = $("submitted-view");
    view.hidden = false;
    view.focus();
    announce("exam:closed", { attempt_id: S.attemptId });
  }

  function sessionLost() {
    var notice = $("notice");
    notice.hidden = false;
    notice.setAttribute("data-kind", "session");
    var link = el("a", { href: "/login?next=" + encodeURIComponent(location.pathname), text: T.login_button });
    notice.replaceChildren(el("strong", { text: T.session_expired }), el("p", {}, [link]));
  }

  /* ---------- the submit dialog ---------- */

  var dialog = { forced: false, opener: null };

  function openDialog() {
    var answered = S.order.filter(isAnswered).length;
    $("submit-dialog-body").textContent = fmt("submit_confirm_body", { answered: answered, total: S.order.length });
    $("submit-dialog-warning").hidden = true;
    dialog.forced = false;
    setDialogBusy(false);
    dialog.opener = document.activeElement;
    $("submit-dialog").hidden = false;
    $("submit-confirm").focus();
  }

  function closeDialog() {
    if ($("submit-dialog").hidden) { return; }
    $("submit-dialog").hidden = true;
    if (dialog.opener && dialog.opener.focus) { dialog.opener.focus(); }
  }

  function setDialogBusy(busy) {
    $("submit-confirm").disabled = busy;
    $("submit-cancel").disabled = busy;
    $("submit-confirm").textContent = busy ? T.submitting : T.confirm_submit;
  }

  function dialogWarning(text) {
    var warning = $("submit-dialog-warning");
    warning.textContent = text;
    warning.hidden = false;
    setDialogBusy(false);
  }

  function confirmSubmit() {
    setDialogBusy(true);
    flushAll().then(function (unsaved) {
      if (S.submitted) { return; }
      if (unsaved > 0 && !dialog.forced && !S.closed) {
        dialog.forced = true;
        dialogWarning(fmt("submit_unsaved_warning", { n: unsaved }));
        return;
      }
      return api("POST", "/api/attempts/" + S.attemptId + "/submit").then(function (result) {
        if (!result.ok) { dialogWarning((result.data && result.data.detail) || T.submit_failed); return; }
        showSubmitted(result.data.finished_at);
      });
    }).catch(function (err) {
      if (err instanceof AuthError) { sessionLost(); }
      dialogWarning(T.submit_failed);
    });
  }

  function bindDialog() {
    $("submit-open").addEventListener("click", openDialog);
    $("submit-cancel").addEventListener("click", closeDialog);
    $("submit-confirm").addEventListener("click", confirmSubmit);
    $("submit-dialog").addEventListener("keydown", function (event) {
      if (event.key === "Escape" && !$("submit-cancel").disabled) { closeDialog(); }
      if (event.key === "Tab") { keepFocusInDialog(event); }
    });
  }

  function keepFocusInDialog(event) {
    var buttons = [$("submit-cancel"), $("submit-confirm")];
    var first = buttons[0], last = buttons[1];
    if (event.shiftKey && document.activeElement === first) { last.focus(); event.preventDefault(); }
    else if (!event.shiftKey && document.activeElement === last) { first.focus(); event.preventDefault(); }
  }

  /* ---------- loading ---------- */

  function errorText(result) {
    var name = result.data && result.data.error;
    if (name === "ExamNotOpen") { return T.exam_not_open + (result.data.detail ? " (" + result.data.detail + ")" : ""); }
    if (name === "Forbidden") { return T.not_on_roster; }
    if (name === "NotFound") { return T.exam_missing; }
    return (result.data && (result.data.message || result.data.detail)) || T.network_error;
  }

  function showError(text) {
    $("exam-status").hidden = true;
    $("error-text").textContent = text;
    $("error-view").hidden = false;
  }

  function onAttempt(data, sentAt) {
    S.attemptId = data.attempt_id;
    root.setAttribute("data-attempt-id", String(data.attempt_id));
    applyTiming(data, sentAt, Date.now());
    $("exam-title").textContent = data.exam_title;
    document.title = data.exam_title + " · " + T.app_name;
    if (data.state !== "in_progress") { showSubmitted(data.finished_at); return; }
    renderPaper(data.paper);
    restoreAnswers(data.answers);
    ["exam-head", "paper", "submit-bar"].forEach(function (id) { $(id).hidden = false; });
    $("exam-status").hidden = true;
    root.setAttribute("data-ready", "true");
    startClock();
    announce("exam:attempt", data);  // proctor_client.js opens its socket when data.proctored
  }

  function announce(name, detail) {
    if (name === "exam:attempt") { window.examAttempt = detail; }
    document.dispatchEvent(new CustomEvent(name, { detail: detail }));
  }

  function load() {
    var sentAt = Date.now();
    api("POST", "/api/exams/" + examId + "/attempt").then(function (result) {
      if (!result.ok) { showError(errorText(result)); return; }
      onAttempt(result.data, sentAt);
    }).catch(function (err) {
      if (err instanceof AuthError) { goToLogin(); return; }
      showError(T.network_error);
    });
  }

  function measureTopbar() {
    var bar = document.querySelector(".topbar");
    document.documentElement.style.setProperty("--topbar-h", bar.offsetHeight + "px");
  }

  if (!Auth.load()) { goToLogin(); return; }
  showUserName();
  measureTopbar();
  window.addEventListener("resize", measureTopbar);
  bindDialog();
  window.addEventListener("online", function () { setOnline(true); resync(); });
  window.addEventListener("offline", function () { setOnline(false); });
  window.addEventListener("beforeunload", function (event) {
    if (!S.closed && S.order.some(isPending)) { event.preventDefault(); event.returnValue = ""; }
  });
  load();
})();
