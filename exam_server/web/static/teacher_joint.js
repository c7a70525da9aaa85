/* The teacher's read-only part of joint exams (联考): the exams their classes sit, and for each
   their candidates' rooms, seats and admission numbers (GET /api/teacher/joint-exams...). */
"use strict";

(function () {
  if (!TEACHER_OK) { return; }
  var list = document.getElementById("teacher-joint-list");
  var status = document.getElementById("joint-status");

  function showCandidates(exam, target, button) {
    button.disabled = true;
    api("GET", "/api/teacher/joint-exams/" + exam.id + "/candidates").then(function (result) {
      button.disabled = false;
      if (!result.ok) { target.replaceChildren(el("p", { "class": "form-error", text: Teacher.errorText(result) })); return; }
      target.replaceChildren(el("div", { "class": "table-wrap" }, [el("table", { "class": "data-table" }, [
        el("thead", {}, [el("tr", {}, [T.student, T.centre_class, T.centre_room, T.centre_seat, T.centre_admission_no, T.centre_absent]
          .map(function (h) { return el("th", { scope: "col", text: h }); }))]),
        el("tbody", {}, result.data.map(function (c) {
          return el("tr", { "data-user": c.username }, [
            el("td", { text: c.display_name }), el("td", { text: c.class_name || "—" }),
            el("td", { text: c.room_number === null ? "—" : (c.site_code || "") + " " + fmt("centre_room_number", { n: c.room_number }) }),
            el("td", { text: c.seat_no === null ? "—" : String(c.seat_no) }), el("td", { text: c.admission_no || "—" }),
            el("td", { text: c.absent ? T.centre_absent : "" })]);
        }))
      ])]));
    }).catch(function (err) { button.disabled = false; Teacher.notice(Teacher.failure(err)); });
  }

  api("GET", "/api/teacher/joint-exams").then(function (result) {
    if (!result.ok) { status.textContent = Teacher.errorText(result); return; }
    status.textContent = result.data.length ? "" : T.joint_none;
    status.hidden = result.data.length > 0;
    result.data.forEach(function (exam) {
      var target = el("div", { "class": "results", "aria-live": "polite" });
      var button = el("button", { type: "button", "class": "btn", text: T.joint_show_candidates });
      button.addEventListener("click", function () { showCandidates(exam, target, button); });
      list.appendChild(el("li", { "class": "card exam-card", "data-joint-id": exam.id }, [
        el("h3", { text: exam.title }),
        el("p", { "class": "muted", text: formatDateTime(new Date(exam.opens_at)) + " – " + formatDateTime(new Date(exam.closes_at)) +
                                           " · " + (exam.admission_published ? T.joint_published : T.joint_not_published) }),
        button, target]));
    });
  }).catch(function (err) { status.textContent = Teacher.failure(err); });
})();
