/* The student's exam list and sign-out. */
"use strict";

(function () {
  var list = document.getElementById("exam-list");
  var status = document.getElementById("exams-status");

  if (!Auth.load()) { location.href = "/login"; return; }
  showUserName();

  document.getElementById("logout").addEventListener("click", signOut);

  function windowText(exam) {
    return formatDateTime(new Date(exam.opens_at)) + " – " + formatDateTime(new Date(exam.closes_at));
  }

  function examState(exam, now) {
    if (now < Date.parse(exam.opens_at)) { return "exam_not_open_yet"; }
    if (now >= Date.parse(exam.closes_at)) { return "exam_closed"; }
    return null;
  }

  function action(exam) {
    var mine = exam.my_attempt;
    if (mine && mine.state !== "in_progress") {
      var done = [el("span", { "class": "badge", "data-attempt-state": mine.state, text: T.attempt_done })];
      if (mine.score !== null) {
        done.push(el("span", { "class": "score", text: fmt("your_score", { score: mine.score, max: mine.max_score }) }));
        if (mine.provisional) { done.push(el("span", { "class": "badge badge-scheduled", text: T.score_provisional })); }
        done.push(el("a", { "class": "btn", href: "/student/result/" + mine.attempt_id, text: T.view_result }));
      }
      return el("span", {}, done);
    }
    var state = examState(exam, Date.now());
    if (state) {
      return el("span", { "class": "badge", text: T[state] });
    }
    return el("a", { "class": "btn btn-primary", href: "/exam/" + exam.id, "data-exam-id": exam.id,
                     text: mine ? T.continue_exam : T.start_exam });
  }

  function renderExam(exam) {
    var link = action(exam);
    return el("li", { "class": "card exam-card" }, [
      el("h2", { text: exam.title }),
      el("dl", { "class": "facts" }, [
        el("dt", { text: T.exam_window }), el("dd", { text: windowText(exam) }),
        el("dt", { text: T.duration }), el("dd", { text: exam.duration_minutes + " " + T.minutes })
      ]),
      el("div", { "class": "exam-card-actions" }, [link])
    ]);
  }

  api("GET", "/api/exams").then(function (result) {
    if (!result.ok) { status.textContent = (result.data && result.data.detail) || T.network_error; return; }
    status.textContent = result.data.length ? "" : T.no_exams;
    status.hidden = result.data.length > 0;
    result.data.forEach(function (exam) { list.appendChild(renderExam(exam)); });
  }).catch(function (err) {
    if (err instanceof AuthError) { goToLogin(); return; }
    status.textContent = T.network_error;
  });
})();
