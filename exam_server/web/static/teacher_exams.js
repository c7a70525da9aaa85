/* The teacher's exams: state, per-exam results table and releasing results. */
"use strict";

(function () {
  if (!TEACHER_OK) { return; }
  var list = document.getElementById("teacher-exam-list");
  var status = document.getElementById("exams-status");

  function examState(exam) {
    var now = Date.now();
    if (now < Date.parse(exam.opens_at)) { return "scheduled"; }
    if (now >= Date.parse(exam.closes_at)) { return "closed"; }
    return "open";
  }

  function windowText(exam) {
    return formatDateTime(new Date(exam.opens_at)) + " – " + formatDateTime(new Date(exam.closes_at));
  }

  function attemptLabel(state) { return state ? (T["attempt_" + state] || state) : T.attempt_none; }

  function loadResults(exam, target, button) {
    button.disabled = true;
    target.replaceChildren(el("p", { "class": "muted", text: T.loading }));
    api("GET", "/api/exams/" + exam.id + "/results").then(function (result) {
      button.disabled = false;
      if (!result.ok) { target.replaceChildren(el("p", { "class": "form-error", text: Teacher.errorText(result) })); return; }
      var rows = result.data;
      var done = rows.filter(function (r) { return r.state && r.state !== "in_progress"; }).length;
      var headId = "results-h-" + exam.id;
      var waiting = rows.reduce(function (n, r) { return n + (r.pending_answers || 0); }, 0);
      target.replaceChildren(
        el("h3", { id: headId, text: fmt("results_heading", { done: done, total: rows.length }) }),
        el("p", { "class": waiting ? "notice results-pending" : "muted results-pending", "data-pending": String(waiting),
                  text: fmt("pending_marking", { n: waiting }) }),
        el("div", { "class": "table-wrap" }, [el("table", { "class": "data-table", "aria-labelledby": headId }, [
          el("thead", {}, [el("tr", {}, [T.student, T.username, T.attempt_state, T.score, T.pending_marking_col, T.finish_reason].map(function (h) {
            return el("th", { scope: "col", text: h });
          }))]),
          el("tbody", {}, rows.map(function (r) {
            var score = r.score === null ? "—" : Teacher.number(r.score) + " / " + Teacher.number(r.max_score);
            return el("tr", { "data-user": r.username }, [
              el("td", { text: r.display_name }), el("td", { text: r.username }),
              el("td", { text: attemptLabel(r.state) }), el("td", { "class": "num", text: score }),
              el("td", { "class": "num", "data-pending": String(r.pending_answers || 0),
                         text: r.pending_answers ? String(r.pending_answers) : "—" }),
              el("td", { text: r.finish_reason ? (T["finish_" + r.finish_reason] || r.finish_reason) : "—" })
            ]);
          }))
        ])])
      );
    }).catch(function (err) {
      button.disabled = false;
      target.replaceChildren(el("p", { "class": "form-error", text: Teacher.failure(err) }));
    });
  }

  function release(exam, button, badge) {
    button.disabled = true;
    api("POST", "/api/exams/" + exam.id + "/release").then(function (result) {
      if (!result.ok) { button.disabled = false; Teacher.notice(Teacher.errorText(result)); return; }
      exam.results_released = true;
      button.textContent = T.results_released;
      badge.hidden = false;
    }).catch(function (err) { button.disabled = false; Teacher.notice(Teacher.failure(err)); });
  }

  function renderExam(exam) {
    var state = examState(exam);
    var results = el("div", { "class": "results", "aria-live": "polite" });
    var show = el("button", { type: "button", "class": "btn", text: T.show_results });
    var releaseButton = el("button", { type: "button", "class": "btn btn-primary",
                                       text: exam.results_released ? T.results_released : T.release_results });
    releaseButton.disabled = exam.results_released;
    var released = el("span", { "class": "badge badge-ok", text: T.results_released, hidden: !exam.results_released });
    var waiting = el("span", { "class": "badge badge-scheduled exam-pending", "data-pending": String(exam.pending_answers || 0),
                               text: fmt("pending_marking", { n: exam.pending_answers || 0 }), hidden: !exam.pending_answers });
    var printing = el("div", { "class": "paper-print-slot" });
    var printButton = el("button", { type: "button", "class": "btn", "aria-expanded": "false",
                                     text: T.paper_print_button });
    printButton.addEventListener("click", function () {
      var open = printButton.getAttribute("aria-expanded") === "true";
      printButton.setAttribute("aria-expanded", open ? "false" : "true");
      printing.replaceChildren.apply(printing, open ? [] : [PaperPrint.panel(exam.id, true)]);
    });
    show.addEventListener("click", function () { loadResults(exam, results, show); });
    releaseButton.addEventListener("click", function () { release(exam, releaseButton, released); });
    return el("li", { "class": "card exam-card", "data-exam-id": exam.id }, [
      el("div", { "class": "panel-head" }, [
        el("h2", { text: exam.title }),
        el("span", {}, [el("span", { "class": "badge badge-" + state, "data-exam-state": state, text: T["exam_state_" + state] }),
                        document.createTextNode(" "), released, document.createTextNode(" "), waiting])
      ]),
      el("dl", { "class": "facts" }, [
        el("dt", { text: T.exam_window }), el("dd", { text: windowText(exam) }),
        el("dt", { text: T.duration }), el("dd", { text: exam.duration_minutes + " " + T.minutes }),
        el("dt", { text: T.class_id }), el("dd", { text: exam.class_id === null ? "—" : String(exam.class_id) }),
        el("dt", { text: T.paper }), el("dd", { text: "#" + exam.paper_id })
      ]),
      el("div", { "class": "exam-card-actions" }, [show, releaseButton, printButton]),
      printing,
      results
    ]);
  }

  api("GET", "/api/exams").then(function (result) {
    if (!result.ok) { status.textContent = Teacher.errorText(result); return; }
    var exams = result.data.slice().sort(function (a, b) { return Date.parse(b.opens_at) - Date.parse(a.opens_at) || b.id - a.id; });
    status.textContent = exams.length ? "" : T.no_teacher_exams;
    status.hidden = exams.length > 0;
    exams.forEach(function (exam) { list.appendChild(renderExam(exam)); });
  }).catch(function (err) { status.textContent = Teacher.failure(err); });
})();
