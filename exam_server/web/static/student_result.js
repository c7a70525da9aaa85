/* A candidate's result: per question its score or "being marked"; the score so far is labelled
   provisional until every answer is final (the API decides; see services/results.py). */
"use strict";

(function () {
  var $ = function (id) { return document.getElementById(id); };
  if (!Auth.load()) { goToLogin(); return; }
  showUserName();
  $("logout").addEventListener("click", signOut);
  var attemptId = $("result-root").getAttribute("data-attempt-id");

  function num(x) { return String(Math.round(x * 100) / 100); }

  function row(line) {
    var marking = line.status === "being_marked";
    return el("tr", { "data-slot": String(line.slot_id), "data-status": line.status }, [
      el("td", { text: fmt("question", { n: line.number }) }),
      el("td", { "class": "num", text: num(line.points) }),
      el("td", {}, [el("span", { "class": "badge" + (marking ? " badge-scheduled" : ""),
                                 text: T["result_status_" + line.status] || line.status })]),
      el("td", { "class": "num", text: line.score === null ? "—" : num(line.score) })
    ]);
  }

  function show(r) {
    document.title = r.exam_title;
    $("result-heading").textContent = r.exam_title;
    $("result-status").hidden = true;
    var total = $("result-total");
    total.hidden = false;
    total.setAttribute("data-provisional", r.provisional ? "true" : "false");
    total.textContent = r.provisional
      ? fmt("result_provisional", { score: num(r.score || 0), max: num(r.max_score) })
      : fmt("result_final", { score: num(r.final_score === null ? (r.score || 0) : r.final_score), max: num(r.max_score) });
    $("result-pending").hidden = !r.provisional;
    $("result-pending").textContent = r.provisional
      ? fmt("result_pending", { n: r.pending, questions: r.pending_numbers.join(", ") }) : "";
    $("result-rows").replaceChildren.apply($("result-rows"), r.slots.map(row));
    $("result-table").hidden = false;
  }

  api("GET", "/api/attempts/" + attemptId + "/result").then(function (result) {
    if (!result.ok) {
      $("result-status").textContent = result.status === 403 ? T.result_not_released : apiErrorText(result);
      return;
    }
    show(result.data);
  }).catch(function (err) {
    if (err instanceof AuthError) { goToLogin(); return; }
    $("result-status").textContent = T.network_error;
  });
})();
