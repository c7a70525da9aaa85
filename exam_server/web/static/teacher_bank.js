/* The item bank: search with paging, selection for export, the item editor, status and versions. */
"use strict";

(function () {
  if (!TEACHER_OK) { return; }
  var PAGE_SIZE = 20;
  var $ = function (id) { return document.getElementById(id); };
  var TEMPLATES = {
    single_choice: { options: [{ id: "A", text: "" }, { id: "B", text: "" }, { id: "C", text: "" },
                               { id: "D", text: "" }], correct: "A" },
    multiple_choice: { options: [{ id: "A", text: "" }, { id: "B", text: "" }, { id: "C", text: "" },
                                 { id: "D", text: "" }], correct: ["A", "B"], partial_credit: "gaokao" },
    true_false: { correct: true },
    fill_blank: { blanks: [{ answers: [{ text: "", fraction: 1.0 }], case_sensitive: false }] },
    numeric: { answers: [{ value: 0, tolerance: 0, fraction: 1.0 }] },
    short_answer: { reference_answer: "", max_chars: 2000 },
    essay: { reference_answer: "", rubric: "", max_chars: 5000 },
    matching: { prompts: [{ id: "p1", text: "" }, { id: "p2", text: "" }],
                choices: [{ id: "c1", text: "" }, { id: "c2", text: "" }, { id: "c3", text: "" }],
                correct: { p1: "c1", p2: "c2" } },
    ordering: { items: [{ id: "a", text: "" }, { id: "b", text: "" }, { id: "c", text: "" }],
                correct_order: ["a", "b", "c"] },
    inline_choice: { gaps: [{ options: [{ id: "a", text: "" }, { id: "b", text: "" }], correct: "a" }] }
  };

  var state = { offset: 0, total: 0, items: [], params: {}, editing: null, points: [], names: {} };

  /* ---------- search ---------- */

  function readParams() {
    var form = $("search-form");
    var params = {};
    ["q", "knowledge_point_id", "type", "status", "difficulty_min", "difficulty_max"].forEach(function (name) {
      var value = form.elements[name].value.trim();
      if (value !== "") { params[name] = value; }
    });
    return params;
  }

  function writeParams(params) {
    var form = $("search-form");
    Object.keys(params || {}).forEach(function (name) {
      if (form.elements[name]) { form.elements[name].value = params[name]; }
    });
  }

  function query(params, offset) {
    var search = new URLSearchParams(params);
    search.set("limit", String(PAGE_SIZE));
    search.set("offset", String(offset));
    return "/api/items?" + search.toString();
  }

  function load() {
    $("bank-status").textContent = T.loading;
    return api("GET", query(state.params, state.offset)).then(function (result) {
      if (!result.ok) { $("bank-status").textContent = Teacher.errorText(result); return; }
      state.total = result.data.total;
      state.items = result.data.items;
      renderRows();
    }).catch(function (err) { $("bank-status").textContent = Teacher.failure(err); });
  }

  function renderRows() {
    var body = $("item-rows");
    var chosen = Teacher.selection();
    body.replaceChildren.apply(body, state.items.map(function (item) { return row(item, chosen); }));
    $("bank-status").textContent = state.total ? fmt("items_found", { n: state.total }) : T.no_items;
    var first = state.total ? state.offset + 1 : 0;
    var last = Math.min(state.offset + PAGE_SIZE, state.total);
    $("page-info").textContent = fmt("page_range", { from: first, to: last, total: state.total });
    $("prev-page").disabled = state.offset === 0;
    $("next-page").disabled = state.offset + PAGE_SIZE >= state.total;
    syncPageCheckbox();
    showSelection();
  }

  function row(item, chosen) {
    var check = el("input", { type: "checkbox", "data-item-id": item.id, "aria-label": fmt("select_item", { id: item.id }) });
    check.checked = chosen.indexOf(item.id) >= 0;
    check.addEventListener("change", function () { toggle(item.id, check.checked); });
    var status = el("select", { "class": "compact", "aria-label": fmt("status_of", { id: item.id }),
                                "data-status-for": item.id });
    Teacher.fillOptions(status, ITEM_STATUSES, Teacher.statusLabel);
    status.value = item.status;
    status.addEventListener("change", function () { setStatus(item, status); });
    var difficulty = item.p_value !== null ? item.p_value : item.difficulty_estimate;
    var edit = el("button", { type: "button", "class": "btn btn-small", text: T.edit,
                              "aria-label": fmt("edit_item", { id: item.id }) });
    edit.addEventListener("click", function () { openEditor(item); });
    var versions = el("button", { type: "button", "class": "btn btn-small", text: T.versions,
                                  "aria-label": fmt("versions_of", { id: item.id }) });
    versions.addEventListener("click", function () { showVersions(item); });
    return el("tr", { "data-item-id": item.id }, [
      el("td", {}, [check]),
      el("td", { text: String(item.id) }),
      el("td", { "class": "stem-cell", title: item.stem, text: Teacher.excerpt(item.stem, 80) }),
      el("td", { text: Teacher.typeLabel(item.type) }),
      el("td", {}, [status]),
      el("td", { "class": "num", text: Teacher.number(difficulty) }),
      el("td", { "class": "num", text: String(item.exposure_count) }),
      el("td", { "class": "num", text: "v" + item.version + (item.is_latest ? "" : " " + T.old_version) }),
      el("td", { "class": "row-actions" }, [edit, versions])
    ]);
  }

  function setStatus(item, select) {
    select.disabled = true;
    api("POST", "/api/items/" + item.id + "/status", { status: select.value }).then(function (result) {
      select.disabled = false;
      if (!result.ok) { select.value = item.status; Teacher.notice(Teacher.errorText(result)); return; }
      item.status = result.data.status;
      select.setAttribute("data-saved", item.status);
      Teacher.notice("");
    }).catch(function (err) { select.disabled = false; select.value = item.status; Teacher.notice(Teacher.failure(err)); });
  }

  /* ---------- selection (kept in sessionStorage for the export page) ---------- */

  function toggle(id, on) {
    var ids = Teacher.selection().filter(function (x) { return x !== id; });
    if (on) { ids.push(id); }
    Teacher.setSelection(ids);
    syncPageCheckbox();
    showSelection();
  }

  function syncPageCheckbox() {
    var boxes = Array.prototype.slice.call(document.querySelectorAll("#item-rows input[type=checkbox]"));
    var all = $("select-page");
    all.checked = boxes.length > 0 && boxes.every(function (b) { return b.checked; });
    all.indeterminate = !all.checked && boxes.some(function (b) { return b.checked; });
  }

  function showSelection() {
    var n = Teacher.selection().length;
    $("selection-count").textContent = fmt("selected_count", { n: n });
    $("export-selected-link").hidden = n === 0;
    $("clear-selection").hidden = n === 0;
  }

  /* ---------- versions ---------- */

  function showVersions(item) {
    var panel = $("versions-panel");
    $("versions-heading").textContent = fmt("versions_heading", { id: item.id });
    $("versions-rows").replaceChildren();
    panel.hidden = false;
    api("GET", "/api/items/" + item.id + "/versions").then(function (result) {
      if (!result.ok) { Teacher.notice(Teacher.errorText(result)); return; }
      $("versions-rows").replaceChildren.apply($("versions-rows"), result.data.map(function (v) {
        var open = el("button", { type: "button", "class": "btn btn-small", text: T.view,
                                  "aria-label": fmt("edit_item", { id: v.id }) });
        open.addEventListener("click", function () { openEditor(v); });
        return el("tr", {}, [
          el("td", { text: "v" + v.version + (v.is_latest ? " · " + T.latest : "") }),
          el("td", { text: String(v.id) }),
          el("td", { text: Teacher.statusLabel(v.status) }),
          el("td", { text: Teacher.excerpt(v.stem, 80) }),
          el("td", {}, [open])
        ]);
      }));
      panel.scrollIntoView({ block: "nearest" });
      panel.focus();
    }).catch(function (err) { Teacher.notice(Teacher.failure(err)); });
  }

  /* ---------- the editor ---------- */

  function openEditor(item) {
    state.editing = item;
    var form = $("editor-form");
    $("editor-heading").textContent = item ? fmt("edit_heading", { id: item.id, version: item.version }) : T.new_item;
    form.elements.type.value = item ? item.type : "single_choice";
    form.elements.type.disabled = !!item;
    form.elements.status.value = item ? item.status : "draft";
    form.elements.share_scope.value = item ? item.share_scope : "school";
    form.elements.title.value = item && item.title || "";
    form.elements.stem.value = item ? item.stem : "";
    form.elements.definition.value = JSON.stringify(item ? item.definition : TEMPLATES.single_choice, null, 2);
    form.elements.explanation.value = item && item.explanation || "";
    form.elements.default_points.value = item && item.default_points !== null ? item.default_points : "";
    form.elements.time_seconds.value = item && item.time_seconds !== null ? item.time_seconds : "";
    form.elements.difficulty_estimate.value = item && item.difficulty_estimate !== null ? item.difficulty_estimate : "";
    form.elements.tags.value = item ? item.tags.join(", ") : "";
    var kps = item ? item.knowledge_point_ids.map(String) : [];
    Array.prototype.forEach.call(form.elements.knowledge_point_ids.options, function (o) {
      o.selected = kps.indexOf(o.value) >= 0;
    });
    $("editor-frozen").hidden = !(item && item.frozen);
    $("editor-error").hidden = true;
    $("editor-ok").hidden = true;
    var panel = $("editor");
    panel.hidden = false;
    panel.scrollIntoView({ block: "start" });
    form.elements.stem.focus();
  }

  function onTypeChange() {
    var form = $("editor-form");
    if (state.editing) { return; }
    var current = form.elements.definition.value.trim();
    var isTemplate = Object.keys(TEMPLATES).some(function (t) {
      return current === "" || current === JSON.stringify(TEMPLATES[t], null, 2);
    });
    if (isTemplate) { form.elements.definition.value = JSON.stringify(TEMPLATES[form.elements.type.value], null, 2); }
  }

  function optionalNumber(value) { return value.trim() === "" ? null : Number(value); }

  function editorError(text) {
    $("editor-error").textContent = text;
    $("editor-error").hidden = false;
    $("editor-ok").hidden = true;
  }

  function saveEditor(event) {
    event.preventDefault();
    var form = $("editor-form");
    var definition;
    try {
      definition = JSON.parse(form.elements.definition.value);
    } catch (e) {
      editorError(fmt("json_invalid", { detail: e.message }));
      form.elements.definition.focus();
      return;
    }
    var base = state.editing || {};
    var body = {
      type: form.elements.type.value,
      stem: form.elements.stem.value,
      definition: definition,
      explanation: form.elements.explanation.value.trim() || null,
      status: form.elements.status.value,
      share_scope: form.elements.share_scope.value,
      title: form.elements.title.value.trim() || null,
      tags: form.elements.tags.value.split(/[,，]/).map(function (s) { return s.trim(); }).filter(Boolean),
      source: base.source || null,
      external_id: base.external_id || null,
      default_points: optionalNumber(form.elements.default_points.value),
      time_seconds: optionalNumber(form.elements.time_seconds.value),
      difficulty_estimate: optionalNumber(form.elements.difficulty_estimate.value),
      irt_a: base.irt_a || null, irt_b: base.irt_b === undefined ? null : base.irt_b,
      irt_c: base.irt_c === undefined ? null : base.irt_c, irt_n: base.irt_n === undefined ? null : base.irt_n,
      knowledge_point_ids: Array.prototype.filter.call(form.elements.knowledge_point_ids.options, function (o) {
        return o.selected;
      }).map(function (o) { return Number(o.value); })
    };
    var button = $("editor-save");
    button.disabled = true;
    var request = state.editing ? api("PUT", "/api/items/" + state.editing.id, body) : api("POST", "/api/items", body);
    request.then(function (result) {
      button.disabled = false;
      if (!result.ok) { editorError(Teacher.errorText(result)); return; }
      var saved = result.data;
      var message = !state.editing ? fmt("item_created", { id: saved.id })
        : saved.id !== state.editing.id ? fmt("item_new_version", { id: saved.id, version: saved.version })
        : fmt("item_saved", { id: saved.id });
      state.editing = saved;
      $("editor-heading").textContent = fmt("edit_heading", { id: saved.id, version: saved.version });
      form.elements.type.disabled = true;
      $("editor-frozen").hidden = !saved.frozen;
      $("editor-error").hidden = true;
      $("editor-ok").textContent = message;
      $("editor-ok").hidden = false;
      load();
    }).catch(function (err) { button.disabled = false; editorError(Teacher.failure(err)); });
  }

  /* ---------- wiring ---------- */

  function init(pointList) {
    state.points = pointList;
    Teacher.fillPointSelect($("f-kp"), pointList);
    Teacher.fillPointSelect($("e-kps"), pointList);
    var saved = Teacher.lastSearch();
    if (saved) { writeParams(saved); }
    state.params = readParams();
    var wanted = Number(new URLSearchParams(location.search).get("item"));
    load().then(function () {
      if (!wanted) { return; }
      api("GET", "/api/items/" + wanted).then(function (result) { if (result.ok) { openEditor(result.data); } });
    });
  }

  Teacher.fillOptions($("f-type"), ITEM_TYPES, Teacher.typeLabel);
  Teacher.fillOptions($("f-status"), ITEM_STATUSES, Teacher.statusLabel);
  Teacher.fillOptions($("e-type"), ITEM_TYPES, Teacher.typeLabel);
  Teacher.fillOptions($("e-status"), ITEM_STATUSES, Teacher.statusLabel);
  Teacher.fillOptions($("e-scope"), SHARE_SCOPES, function (s) { return T["scope_" + s]; });

  $("search-form").addEventListener("submit", function (event) {
    event.preventDefault();
    state.params = readParams();
    state.offset = 0;
    Teacher.setLastSearch(state.params);
    load();
  });
  $("prev-page").addEventListener("click", function () { state.offset = Math.max(0, state.offset - PAGE_SIZE); load(); });
  $("next-page").addEventListener("click", function () { state.offset += PAGE_SIZE; load(); });
  $("select-page").addEventListener("change", function () {
    var on = $("select-page").checked;
    var ids = Teacher.selection();
    state.items.forEach(function (item) {
      ids = ids.filter(function (x) { return x !== item.id; });
      if (on) { ids.push(item.id); }
    });
    Teacher.setSelection(ids);
    renderRows();
  });
  $("clear-selection").addEventListener("click", function () { Teacher.setSelection([]); renderRows(); });
  $("new-item").addEventListener("click", function () { openEditor(null); });
  $("editor-close").addEventListener("click", function () { $("editor").hidden = true; $("new-item").focus(); });
  $("versions-close").addEventListener("click", function () { $("versions-panel").hidden = true; });
  $("e-type").addEventListener("change", onTypeChange);
  $("editor-form").addEventListener("submit", saveEditor);

  Teacher.points().then(init, function (err) { Teacher.notice(Teacher.failure(err)); init([]); });
})();
