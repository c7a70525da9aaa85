/* Automatic assembly: build a blueprint, preview the form(s) the solver finds (or the reasons it
   cannot), save a form as a paper, then schedule an exam with it. */
"use strict";

(function () {
  if (!TEACHER_OK) { return; }
  var $ = function (id) { return document.getElementById(id); };
  var LETTERS = "ABCDEFGHIJKLMNOPQRST";
  var state = { points: [], names: {}, rowSeq: 0, classId: "", lastBlueprint: null };

  /* ---------- the blueprint rows ---------- */

  function numberField(id, label, attrs) {
    return el("div", { "class": "field" }, [
      el("label", { "for": id, text: label }),
      el("input", Object.assign({ id: id, type: "number" }, attrs || {}))
    ]);
  }

  function removeButton(row, label, list) {
    var button = el("button", { type: "button", "class": "btn btn-small", text: T.remove, "aria-label": label });
    button.addEventListener("click", function () {
      row.remove();
      renumber(list);
    });
    return button;
  }

  function renumber(list) {
    Array.prototype.forEach.call(list.children, function (row, i) {
      var legend = row.querySelector("legend");
      if (legend) { legend.textContent = fmt(row.getAttribute("data-kind") === "section" ? "section_n" : "kp_n", { n: i + 1 }); }
    });
    $("kp-empty").hidden = $("kp-rows").children.length > 0;
  }

  function addSection(values) {
    values = values || {};
    var k = ++state.rowSeq;
    var types = el("select", { id: "sec-types-" + k, multiple: true, size: "4", "data-field": "types",
                               "aria-describedby": "sec-types-hint-" + k });
    Teacher.fillOptions(types, ITEM_TYPES, Teacher.typeLabel);
    Array.prototype.forEach.call(types.options, function (o) { o.selected = (values.types || []).indexOf(o.value) >= 0; });
    var list = $("section-rows");
    var row = el("fieldset", { "class": "bp-row", "data-kind": "section" }, [el("legend", {})]);
    var name = el("input", { id: "sec-name-" + k, type: "text", maxlength: "300", "data-field": "name",
                             value: values.name || fmt("default_section_name", { n: list.children.length + 1 }) });
    row.appendChild(el("div", { "class": "bp-fields" }, [
      el("div", { "class": "field grow" }, [el("label", { "for": "sec-name-" + k, text: T.section_name }), name]),
      numberField("sec-count-" + k, T.section_count, { min: "1", max: "500", step: "1", value: values.count || 5,
                                                       "data-field": "count" }),
      el("div", { "class": "field" }, [el("label", { "for": "sec-types-" + k, text: T.section_types }), types,
                                       el("p", { id: "sec-types-hint-" + k, "class": "hint", text: T.section_types_hint })]),
      numberField("sec-points-" + k, T.section_points, { min: "0", step: "any", value: values.points || 2,
                                                         "data-field": "points" })
    ]));
    row.appendChild(el("div", { "class": "row-actions" }, [removeButton(row, T.remove_section, list)]));
    list.appendChild(row);
    renumber(list);
    return row;
  }

  function addKnowledge() {
    var k = ++state.rowSeq;
    var node = el("select", { id: "kp-node-" + k, "data-field": "node" });
    Teacher.fillPointSelect(node, state.points);
    var list = $("kp-rows");
    var row = el("fieldset", { "class": "bp-row", "data-kind": "kp" }, [el("legend", {})]);
    row.appendChild(el("div", { "class": "bp-fields" }, [
      el("div", { "class": "field grow" }, [el("label", { "for": "kp-node-" + k, text: T.knowledge_point }), node]),
      numberField("kp-min-" + k, T.min_count, { min: "0", step: "1", "data-field": "min" }),
      numberField("kp-max-" + k, T.max_count, { min: "0", step: "1", "data-field": "max" })
    ]));
    row.appendChild(el("div", { "class": "row-actions" }, [removeButton(row, T.remove_kp, list)]));
    list.appendChild(row);
    renumber(list);
    node.focus();
  }

  /* ---------- reading the form ---------- */

  function num(input) {
    var v = input.value.trim();
    return v === "" ? null : Number(v);
  }

  function field(row, name) { return row.querySelector("[data-field=" + name + "]"); }

  function readBlueprint() {
    var sections = Array.prototype.map.call($("section-rows").children, function (row) {
      var types = Array.prototype.filter.call(field(row, "types").options, function (o) { return o.selected; })
        .map(function (o) { return o.value; });
      return { name: field(row, "name").value.trim(), count: num(field(row, "count")), types: types,
               points_per_item: num(field(row, "points")) };
    });
    var knowledge = Array.prototype.map.call($("kp-rows").children, function (row) {
      return { node: Number(field(row, "node").value), min_count: num(field(row, "min")),
               max_count: num(field(row, "max")) };
    });
    var statuses = Array.prototype.filter.call(document.querySelectorAll("input[name=statuses]"), function (c) {
      return c.checked;
    }).map(function (c) { return c.value; });
    var mean = num($("bp-dmean"));
    var minutes = num($("bp-time"));
    var classId = num($("bp-class"));
    var problems = [];
    if (!sections.length) { problems.push(T.need_section); }
    sections.forEach(function (s, i) {
      if (!s.name) { problems.push(fmt("section_needs_name", { n: i + 1 })); }
      if (!s.count || s.count < 1) { problems.push(fmt("section_needs_count", { n: i + 1 })); }
    });
    if (!statuses.length) { problems.push(T.need_status); }
    return {
      problems: problems,
      body: {
        blueprint: {
          sections: sections,
          knowledge_points: knowledge,
          difficulty: mean === null ? null : { mean: mean, tolerance: num($("bp-dtol")) || 0 },
          max_time_seconds: minutes === null ? null : minutes * 60,
          max_exposure: num($("bp-exposure")),
          exclude_seen_recently: classId !== null,
          statuses: statuses
        },
        forms: num($("bp-forms")) || 1,
        class_id: classId
      }
    };
  }

  /* ---------- preview ---------- */

  function preview(event) {
    event.preventDefault();
    var read = readBlueprint();
    var error = $("bp-error");
    $("infeasible").hidden = true;
    if (read.problems.length) {
      error.textContent = read.problems.join(" ");
      error.hidden = false;
      return;
    }
    error.hidden = true;
    var button = $("preview-button");
    button.disabled = true;
    button.textContent = T.assembling;
    $("preview").replaceChildren(el("p", { "class": "muted", text: T.assembling }));
    state.lastBlueprint = read.body;
    api("POST", "/api/assembly/preview", read.body).then(function (result) {
      $("preview").replaceChildren();
      if (result.ok) { showForms(result.data, read.body); return; }
      if (result.data && result.data.error === "Infeasible") { showInfeasible(result.data); return; }
      error.textContent = Teacher.errorText(result);
      error.hidden = false;
    }).catch(function (err) {
      $("preview").replaceChildren();
      error.textContent = Teacher.failure(err);
      error.hidden = false;
    }).then(function () {
      button.disabled = false;
      button.textContent = T.preview;
    });
  }

  function showInfeasible(data) {
    var lang = T.html_lang.indexOf("zh") === 0 ? "zh" : "en";
    var explanations = data.explanations || [];
    var items = explanations.length ? explanations.map(function (x) {
      return el("li", { "data-constraint": x.constraint }, [
        el("span", { text: x[lang] || x.en }),
        el("span", { "class": "muted small", text: " (" + x.constraint + ")" })
      ]);
    }) : [el("li", { text: data.detail })];
    $("infeasible-list").replaceChildren.apply($("infeasible-list"), items);
    var box = $("infeasible");
    box.hidden = false;
    box.scrollIntoView({ block: "nearest" });
  }

  function formName(index, count) {
    return count > 1 ? fmt("form_label", { letter: LETTERS.charAt(index) }) : T.assembled_paper;
  }

  function showForms(data, request) {
    var container = $("preview");
    var nodes = data.forms.map(function (form, i) { return renderForm(form, i, data.forms.length, request); });
    if (data.forms.length > 1) {
      nodes.unshift(el("p", { "class": "muted", text: fmt("forms_overlap", { n: data.overlap }) }));
    }
    container.replaceChildren.apply(container, nodes);
    container.firstChild.scrollIntoView({ block: "start" });
  }

  function verdict(form) {
    if (!form.violations.length) {
      return el("p", { "class": "verdict verdict-ok", "data-verdict": "ok", role: "status", text: T.all_requirements_met });
    }
    return el("div", { "class": "verdict verdict-bad", "data-verdict": "violations" }, [
      el("strong", { text: T.requirements_violated }),
      el("ul", {}, form.violations.map(function (v) { return el("li", { text: v }); }))
    ]);
  }

  function facts(pairs) {
    var children = [];
    pairs.forEach(function (pair) {
      children.push(el("dt", { text: pair[0] }));
      children.push(el("dd", { "data-stat": pair[2] || null, text: pair[1] }));
    });
    return el("dl", { "class": "facts stats" }, children);
  }

  function kpCounts(counts) {
    var keys = Object.keys(counts || {});
    if (!keys.length) { return "—"; }
    return keys.map(function (k) { return (state.names[k] || "#" + k) + ": " + counts[k]; }).join("；");
  }

  function renderForm(form, index, count, request) {
    var stats = form.stats;
    var id = "form-" + index;
    var number = 0;
    var tables = form.sections.map(function (section) {
      return el("div", { "class": "form-section" }, [
        el("h4", { text: section.name + " · " + fmt("n_items", { n: section.items.length }) }),
        el("div", { "class": "table-wrap" }, [el("table", { "class": "data-table" }, [
          el("thead", {}, [el("tr", {}, [T.col_no, T.col_id, T.col_stem, T.item_type, T.col_difficulty, T.col_points,
                                         T.knowledge_points].map(function (h) { return el("th", { scope: "col", text: h }); }))]),
          el("tbody", {}, section.items.map(function (item) {
            number += 1;
            return el("tr", { "data-item-id": item.item_id }, [
              el("td", { text: String(number) }),
              el("td", {}, [el("a", { href: "/teacher/bank?item=" + item.item_id, text: String(item.item_id) })]),
              el("td", { "class": "stem-cell", title: item.stem, text: Teacher.excerpt(item.stem, 90) }),
              el("td", { text: Teacher.typeLabel(item.type) }),
              el("td", { "class": "num", text: Teacher.number(item.difficulty) }),
              el("td", { "class": "num", text: Teacher.number(item.points) }),
              el("td", { text: item.knowledge_point_ids.map(function (k) { return state.names[k] || "#" + k; }).join("，") || "—" })
            ]);
          }))
        ])])
      ]);
    });
    var gap = form.gap === null || form.gap === undefined ? "—" : Teacher.number(form.gap * 100, 2) + "%";
    var card = el("section", { "class": "card form-card", id: id, "data-form-index": index, "aria-labelledby": id + "-h" }, [
      el("h2", { id: id + "-h", text: formName(index, count) }),
      verdict(form),
      el("div", { "class": "grid-2" }, [
        facts([[T.stat_items, String(stats.n_items), "n_items"], [T.stat_total_score, Teacher.number(stats.total_score), "total_score"],
               [T.stat_mean_difficulty, Teacher.number(stats.mean_difficulty, 3), "mean_difficulty"],
               [T.stat_time, fmt("minutes_value", { n: Teacher.number(stats.time_seconds / 60, 1) }), "time"],
               [T.stat_knowledge, kpCounts(stats.knowledge_counts), "knowledge"]]),
        facts([[T.stat_objective, T["objective_" + form.objective_kind] || form.objective_kind, "objective_kind"],
               [T.stat_objective_value, Teacher.number(form.objective, 4), "objective"],
               [T.stat_bound, Teacher.number(form.bound, 4), "bound"], [T.stat_gap, gap, "gap"],
               [T.stat_solver, form.solver + " · " + form.status + " · " + fmt("seconds_value", { n: Teacher.number(form.seconds, 3) }), "solver"]])
      ])
    ].concat(tables));
    card.appendChild(saveBox(form, index, count, request));
    return card;
  }

  /* ---------- save as paper, then schedule ---------- */

  function today() { return new Date().toLocaleDateString(T.locale); }

  function saveBox(form, index, count, request) {
    var id = "save-" + index;
    var title = el("input", { id: id + "-title", type: "text", maxlength: "300", required: true,
                              value: fmt("default_paper_title", { date: today() }) + (count > 1 ? " " + LETTERS.charAt(index) : "") });
    var button = el("button", { type: "submit", "class": "btn btn-primary", text: T.save_as_paper });
    var message = el("p", { "class": "form-error", role: "alert", hidden: true });
    var box = el("form", { "class": "save-paper", novalidate: true }, [
      el("h3", { text: T.save_as_paper }),
      el("div", { "class": "inline-form" }, [
        el("div", { "class": "field grow" }, [el("label", { "for": id + "-title", text: T.paper_title }), title]),
        el("div", { "class": "field actions" }, [button])
      ]),
      message
    ]);
    box.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!title.value.trim()) { message.textContent = T.need_title; message.hidden = false; title.focus(); return; }
      var body = { title: title.value.trim(), sections: form.sections.filter(function (s) { return s.items.length; }).map(function (s) {
        return { title: s.name, slots: s.items.map(function (item) { return { item_id: item.item_id, points: item.points }; }) };
      }) };
      button.disabled = true;
      api("POST", "/api/papers", body).then(function (result) {
        if (!result.ok) { message.textContent = Teacher.errorText(result); message.hidden = false; button.disabled = false; return; }
        var paper = result.data;
        box.replaceWith(scheduleBox(paper, form, index, request));
      }).catch(function (err) { message.textContent = Teacher.failure(err); message.hidden = false; button.disabled = false; });
    });
    return box;
  }

  function scheduleBox(paper, form, index, request) {
    var id = "sched-" + index;
    var opens = new Date();
    opens.setSeconds(0, 0);
    var closes = new Date(opens.getTime() + 24 * 3600 * 1000);
    var minutes = request.blueprint.max_time_seconds ? Math.ceil(request.blueprint.max_time_seconds / 60)
      : Math.max(10, Math.ceil(form.stats.time_seconds / 60 / 5) * 5);
    function input(name, label, attrs) {
      return el("div", { "class": "field" }, [el("label", { "for": id + "-" + name, text: label }),
                                              el("input", Object.assign({ id: id + "-" + name, name: name }, attrs))]);
    }
    function check(name, label) {
      return el("label", { "class": "check" }, [el("input", { type: "checkbox", name: name }), el("span", { text: " " + label })]);
    }
    var message = el("p", { role: "alert", hidden: true });
    var button = el("button", { type: "submit", "class": "btn btn-primary", text: T.schedule_exam });
    var box = el("form", { "class": "schedule-exam", novalidate: true, "data-paper-id": paper.id }, [
      el("p", { "class": "form-ok", role: "status", text: fmt("paper_saved", { id: paper.id, title: paper.title, score: Teacher.number(paper.max_score) }) }),
      el("h3", { text: T.schedule_exam }),
      input("title", T.exam_name, { type: "text", maxlength: "300", value: paper.title }),
      el("div", { "class": "grid-3" }, [
        input("class_id", T.class_id, { type: "number", min: "1", step: "1", value: state.classId,
                                        list: "class-options" }),
        input("opens", T.opens_at, { type: "datetime-local", value: Teacher.toLocalInput(opens) }),
        input("closes", T.closes_at, { type: "datetime-local", value: Teacher.toLocalInput(closes) }),
        input("duration", T.duration_minutes, { type: "number", min: "1", max: "1440", step: "1", value: minutes })
      ]),
      el("div", { "class": "field" }, [check("shuffle_items", T.shuffle_items), check("shuffle_options", T.shuffle_options)]),
      message,
      el("div", { "class": "form-actions" }, [button])
    ]);
    box.addEventListener("submit", function (event) {
      event.preventDefault();
      var f = box.elements;
      var body = {
        title: f.title.value.trim(), paper_id: paper.id, class_id: Number(f.class_id.value),
        opens_at: Teacher.localToIso(f.opens.value), closes_at: Teacher.localToIso(f.closes.value),
        duration_minutes: Number(f.duration.value), shuffle_items: f.shuffle_items.checked,
        shuffle_options: f.shuffle_options.checked
      };
      function fail(text) { message.className = "form-error"; message.textContent = text; message.hidden = false; button.disabled = false; }
      if (!body.title || !body.class_id || !body.opens_at || !body.closes_at || !body.duration_minutes) { fail(T.fill_all_fields); return; }
      if (Date.parse(body.closes_at) <= Date.parse(body.opens_at)) { fail(T.closes_after_opens); return; }
      button.disabled = true;
      api("POST", "/api/exams", body).then(function (result) {
        if (!result.ok) { fail(Teacher.errorText(result)); return; }
        var done = el("div", { "class": "scheduled", role: "status", "data-exam-id": result.data.id }, [
          el("p", { "class": "form-ok", text: fmt("exam_scheduled", { title: result.data.title }) }),
          el("a", { "class": "btn", href: "/teacher/exams", text: T.go_to_exams })
        ]);
        box.replaceWith(done);
      }).catch(function (err) { fail(Teacher.failure(err)); });
    });
    return box;
  }

  /* ---------- start ---------- */

  $("add-section").addEventListener("click", function () {
    var row = addSection();
    row.querySelector("input").focus();
  });
  $("add-kp").addEventListener("click", addKnowledge);
  $("blueprint-form").addEventListener("submit", preview);
  addSection({ name: fmt("default_section_name", { n: 1 }), count: 5, points: 2 });

  Teacher.points().then(function (list) {
    state.points = list;
    state.names = Teacher.pointNames(list);
    $("add-kp").disabled = list.length === 0;
  }, function (err) { Teacher.notice(Teacher.failure(err)); $("add-kp").disabled = true; });

  /* Classes the teacher may schedule for, offered as suggestions beside the class id fields. */
  api("GET", "/api/classes").then(function (result) {
    if (!result.ok) { return; }
    var options = $("class-options");
    result.data.forEach(function (c) {
      options.appendChild(el("option", { value: String(c.id), label: c.school_name + " · " + c.name }));
    });
  }).catch(function () {});

  api("GET", "/api/exams").then(function (result) {
    if (!result.ok || !result.data.length) { return; }
    var withClass = result.data.filter(function (e) { return e.class_id !== null; });
    if (!withClass.length) { return; }
    state.classId = String(withClass[withClass.length - 1].class_id);
    if (!$("bp-class").value) { $("bp-class").value = state.classId; }
    document.querySelectorAll("input[name=class_id]").forEach(function (i) { if (!i.value) { i.value = state.classId; } });
  }).catch(function () {});
})();
