/* Printing an exam on paper: the paper (student or teacher copy, A4 or A3, per form) and the
   answer sheet (答题卡). PaperPrint.panel(examId, withTeacherCopy) returns the controls; the PDFs
   are fetched with the bearer token and saved as files. Used on the teacher's exams page and the
   exam centre's print page. */
"use strict";

var PaperPrint = (function () {
  function errorMessage(resp, body) {
    try {
      var data = JSON.parse(body);
      if (data && data.detail) { return typeof data.detail === "string" ? data.detail : JSON.stringify(data.detail); }
    } catch (e) { /* not JSON */ }
    return T.request_failed + " (" + resp.status + ")";
  }

  function download(url, name, say) {
    say(T.paper_print_working);
    Auth.fresh().then(function (a) {
      return fetch(url, { headers: { "Authorization": "Bearer " + a.access } });
    }).then(function (resp) {
      if (!resp.ok) { return resp.text().then(function (body) { say(errorMessage(resp, body)); return null; }); }
      return resp.blob();
    }).then(function (blob) {
      if (!blob) { return; }
      say("");
      var href = URL.createObjectURL(blob);
      var link = el("a", { href: href, download: name });
      document.body.appendChild(link);
      link.click();
      link.remove();
      setTimeout(function () { URL.revokeObjectURL(href); }, 10000);
    }).catch(function (err) {
      if (typeof AuthError !== "undefined" && err instanceof AuthError) { goToLogin(); return; }
      say(T.network_error);
    });
  }

  function select(id, label, options) {
    return [el("label", { "for": id, text: label }),
            el("select", { id: id }, options.map(function (o) { return el("option", { value: o[0], text: o[1] }); }))];
  }

  function panel(examId, withTeacherCopy) {
    var prefix = "pp-" + examId + "-";
    var notice = el("p", { "class": "muted", role: "status", "aria-live": "polite" });
    function say(message) { notice.textContent = message; }
    var copies = [["student", T.paper_print_copy_student]];
    if (withTeacherCopy) { copies.push(["teacher", T.paper_print_copy_teacher]); }
    var fields = [].concat(
      [el("label", { "for": prefix + "form", text: T.paper_print_form }),
       el("input", { id: prefix + "form", type: "text", maxlength: "10", size: "4", placeholder: T.paper_print_form_hint })],
      select(prefix + "copy", T.paper_print_copy, copies),
      select(prefix + "size", T.paper_print_size, [["A4", T.paper_print_size_a4], ["A3", T.paper_print_size_a3]])
    );
    function value(name) { return document.getElementById(prefix + name).value.trim(); }
    function query(extra) {
      var params = new URLSearchParams();
      if (value("form")) { params.set("form", value("form")); }
      Object.keys(extra).forEach(function (k) { params.set(k, extra[k]); });
      var text = params.toString();
      return text ? "?" + text : "";
    }
    var paper = el("button", { type: "button", "class": "btn", "data-action": "paper", text: T.paper_print_paper });
    var sheet = el("button", { type: "button", "class": "btn", "data-action": "sheet", text: T.paper_print_sheet });
    var named = el("button", { type: "button", "class": "btn btn-link", "data-action": "named", text: T.paper_print_named });
    paper.addEventListener("click", function () {
      var url = "/api/exams/" + examId + "/paper.pdf" + query({ copy: value("copy"), size: value("size") });
      download(url, "paper-" + examId + (value("form") ? "-" + value("form") : "") + "-" + value("copy") + ".pdf", say);
    });
    sheet.addEventListener("click", function () {
      download("/api/exams/" + examId + "/answer-sheet.pdf" + query({}), "answer-sheet-" + examId + ".pdf", say);
    });
    named.addEventListener("click", function () {
      download("/api/exams/" + examId + "/answer-sheet.pdf" + query({ named: "true" }),
               "answer-sheets-named-" + examId + ".pdf", say);
    });
    return el("section", { "class": "paper-print", "data-exam-id": examId, "aria-label": T.paper_print_heading }, [
      el("h3", { text: T.paper_print_heading }),
      el("div", { "class": "print-form" }, fields),
      el("div", { "class": "exam-card-actions" }, [paper, sheet, named]),
      el("p", { "class": "muted", text: T.paper_print_note }),
      notice
    ]);
  }

  return { panel: panel, download: download };
})();
