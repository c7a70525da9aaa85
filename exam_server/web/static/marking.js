/* Online marking: one anonymous answer at a time with the question, reference answer and rubric.
   Keyboard: type the score (digits and a point only; or one mark per criterion, Tab between them),
   Enter submits and shows the next answer; P (also in the score field) opens the problem panel,
   where Enter sends and Esc cancels. The progress line shows the question's progress and the
   batch. An answer from another form (A卷/B卷) whose question differs is shown with that question.
   The API decides everything; its refusals are shown with apiErrorText. */
"use strict";

(function () {
  var ROLES = ["marker", "teacher", "reviewer", "admin"];
  var BATCH = 10;
  var auth = Auth.load();
  if (!auth) { goToLogin(); return; }
  if (ROLES.indexOf(auth.user && auth.user.role) < 0) { location.href = homeFor(auth.user); return; }
  showUserName();
  document.getElementById("logout").addEventListener("click", signOut);

  var $ = function (id) { return document.getElementById(id); };
  var tasks = [];
  var unit = null;
  var unitRows = {};
  var shownAt = 0;

  function say(message) { $("page-notice").textContent = message; $("page-notice").hidden = !message; }

  var errorText = apiErrorText;

  function failed(err) {
    if (err instanceof AuthError) { goToLogin(); return; }
    say(T.network_error);
  }

  function loadExams() {
    api("GET", "/api/exams").then(function (result) {
      if (!result.ok) { say(errorText(result)); return; }
      $("marking-exam").replaceChildren.apply($("marking-exam"), result.data.map(function (exam) {
        return el("option", { value: String(exam.id), text: exam.title });
      }));
      var wanted = new URLSearchParams(location.search).get("exam");
      if (wanted) { $("marking-exam").value = wanted; }
      loadUnits();
    }).catch(failed);
  }

  function loadUnits() {
    if (!$("marking-exam").value) { return; }
    api("GET", "/api/exams/" + $("marking-exam").value + "/marking").then(function (result) {
      if (!result.ok) { say(errorText(result)); return; }
      var keep = $("marking-unit").value;
      unitRows = {};
      result.data.forEach(function (u) { unitRows[String(u.id)] = u; });
      $("marking-unit").replaceChildren.apply($("marking-unit"), result.data.map(function (u) {
        return el("option", { value: String(u.id), text: fmt("marking_unit_label", {
          name: u.name, done: u.done, tasks: u.tasks, mine: u.my_marks }) });
      }));
      if (keep) { $("marking-unit").value = keep; }
      if (!result.data.length) { say(T.marking_no_units); }
      showProgress();
    }).catch(failed);
  }

  function fetchBatch() {
    say("");
    var body = { n: BATCH, queue: $("marking-queue").value };
    return api("POST", "/api/marking/units/" + $("marking-unit").value + "/batch", body).then(function (result) {
      if (!result.ok) { say(errorText(result)); return; }
      unit = result.data.unit;
      tasks = result.data.tasks;
      show();
      loadUnits();
    }).catch(failed);
  }

  /* "Q1: 3 of 10 done · 2 marked by you" and, while marking, the batch line under it. */
  function showProgress() {
    var row = unitRows[$("marking-unit").value];
    $("marking-unit-progress").textContent = row ? fmt("marking_progress_unit", {
      name: row.name, done: row.done, tasks: row.tasks, mine: row.my_marks }) : "";
    if (row) {
      $("marking-meter").max = Math.max(row.tasks, 1);
      $("marking-meter").value = row.done;
    }
    $("marking-meter").hidden = !row;
  }

  function show() {
    var task = tasks[0];
    closeProblem();
    $("marking-task").hidden = !task;
    if (!task) { $("marking-progress").textContent = T.marking_empty; return; }
    $("marking-progress").textContent = fmt("marking_batch", { left: tasks.length, round: T["marking_round_" + task.round] || task.round });
    $("marking-form-note").hidden = !task.question;
    $("marking-question").textContent = unit.name + " · " + (unit.score_step >= 0.01 ? fmt("marking_points", { points: unit.points, step: unit.score_step })
      : fmt("marking_points_only", { points: unit.points })) + " — " + (unit.stem || "");
    var typed = task.response !== null && task.response !== undefined;
    var crops = task.crops || [];
    $("marking-answer").hidden = !typed && crops.length > 0;
    $("marking-answer").textContent = typed ? String(task.response) : fmt("marking_crop", { id: task.crop_id });
    MarkingOcr.showCrops($("marking-crops"), crops);
    var reasons = task.machine_reasons || [];
    $("marking-machine-note").hidden = !reasons.length;
    $("marking-machine-note").textContent = reasons.length ? fmt("marking_machine_note", {
      reasons: reasons.map(function (r) { return T["ocr_reason_" + r] || r; }).join(", ") }) : "";
    $("marking-reference").textContent = unit.reference_answer || "—";
    $("marking-rubric").textContent = unit.rubric || "";
    $("marking-problem-note").hidden = !task.problem;
    $("marking-problem-note").textContent = task.problem ? fmt("marking_flagged", { reason: task.problem }) : "";
    var earlier = task.earlier_marks || [];  // only the lead's arbitration and problem queues have them
    $("marking-earlier").hidden = !earlier.length;
    $("marking-earlier-list").replaceChildren.apply($("marking-earlier-list"), earlier.map(function (m) {
      return el("li", { text: fmt("marking_earlier_row", {
        round: T["marking_round_" + m.round] || m.round, score: m.score, marker: m.marker || m.marker_id }) });
    }));
    var criteria = unit.criteria || [];
    $("marking-criteria").replaceChildren.apply($("marking-criteria"), criteria.map(function (c, i) {
      var id = "marking-criterion-" + i;
      return el("div", { class: "criterion" }, [
        el("label", { for: id, text: c.name + " (0–" + c.max_points + ")" +
          (unit.blanks && unit.blanks[i] && unit.blanks[i].accepted.length
            ? " · " + fmt("marking_accepted", { answers: unit.blanks[i].accepted.join(" / ") }) : "") }),
        el("input", { id: id, inputmode: "decimal", autocomplete: "off", "data-criterion": String(i) })]);
    }));
    $("marking-score").hidden = criteria.length > 0;
    $("marking-score-label").hidden = criteria.length > 0;
    $("marking-score").value = "";
    shownAt = Date.now();
    var first = criteria.length ? $("marking-criterion-0") : $("marking-score");
    first.focus();
  }

  function submit(event) {
    event.preventDefault();
    var task = tasks[0];
    if (!task) { return; }
    var body = { seconds: Math.round((Date.now() - shownAt) / 1000) };
    var inputs = Array.prototype.slice.call($("marking-criteria").querySelectorAll("input"));
    if (inputs.length) {
      body.criteria = inputs.map(function (input) { return Number(input.value.trim()); });
    } else {
      if (!$("marking-score").value.trim()) { $("marking-score").focus(); return; }
      body.score = Number($("marking-score").value.trim());
    }
    $("marking-submit").disabled = true;
    api("POST", "/api/marking/tasks/" + task.token + "/mark", body).then(function (result) {
      $("marking-submit").disabled = false;
      if (!result.ok) {
        say(errorText(result));
        if (result.status === 409) { tasks.shift(); next(); }
        return;
      }
      say("");
      tasks.shift();
      next();
      loadUnits();
    }).catch(function (err) { $("marking-submit").disabled = false; failed(err); });
  }

  function next() { if (tasks.length) { show(); } else { fetchBatch(); } }

  function openProblem() {
    if (!tasks.length) { return; }
    $("marking-problem").hidden = false;
    $("marking-problem-kind").value = "unreadable";
    $("marking-problem-text").value = "";
    $("marking-problem-kind").focus();
  }

  function closeProblem() { $("marking-problem").hidden = true; }

  function flag(event) {
    event.preventDefault();
    var task = tasks[0];
    if (!task) { return; }
    var kind = $("marking-problem-kind");
    var note = $("marking-problem-text").value.trim();
    var reason = kind.options[kind.selectedIndex].text + (note ? ": " + note : "");
    api("POST", "/api/marking/tasks/" + task.token + "/problem", { reason: reason }).then(function (result) {
      if (!result.ok) { say(errorText(result)); return; }
      say("");
      tasks.shift();
      next();
    }).catch(failed);
  }

  /* The score fields take digits and one point; P opens the problem panel from there too. */
  function scoreKeys(event) {
    if (event.ctrlKey || event.metaKey || event.altKey || event.key.length !== 1) { return; }
    if (event.key === "p" || event.key === "P") { event.preventDefault(); openProblem(); return; }
    if (!/[0-9.]/.test(event.key)) { event.preventDefault(); say(T.marking_score_keys); }
  }

  $("marking-exam").addEventListener("change", loadUnits);
  MarkingOcr.audit(function () { return $("marking-exam").value; }, say);
  $("marking-pick").addEventListener("submit", function (event) { event.preventDefault(); fetchBatch(); });
  $("marking-form").addEventListener("submit", submit);
  $("marking-flag").addEventListener("click", openProblem);
  $("marking-problem").addEventListener("submit", flag);
  $("marking-problem-kind").addEventListener("keydown", function (event) {
    if (event.key === "Enter") { flag(event); }  // a select does not submit its form by itself
  });
  $("marking-problem-cancel").addEventListener("click", function () { closeProblem(); show(); });
  $("marking-unit").addEventListener("change", showProgress);
  $("marking-form").addEventListener("keydown", function (event) {
    if (event.target && event.target.tagName === "INPUT") { scoreKeys(event); }
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && !$("marking-problem").hidden) { event.preventDefault(); closeProblem(); show(); return; }
    var typing = event.target && ["INPUT", "SELECT", "TEXTAREA"].indexOf(event.target.tagName) >= 0;
    if (!typing && (event.key === "p" || event.key === "P") && tasks.length) { event.preventDefault(); openProblem(); }
  });
  loadExams();
}());
