/* Printing (exam centre): start a print run, follow its progress, download the PDFs and the zip.
   Downloads go through fetch with the bearer token and are saved as files. */
"use strict";

(function () {
  var ROLES = ["centre_staff", "admin"];
  var POLL_MS = 1000;
  var auth = Auth.load();
  if (!auth) { goToLogin(); return; }
  if (ROLES.indexOf(auth.user && auth.user.role) < 0) { location.href = "/login"; return; }
  showUserName();
  document.getElementById("logout").addEventListener("click", signOut);

  var form = document.getElementById("print-form");
  var examSelect = document.getElementById("print-exam");
  var notice = document.getElementById("page-notice");
  var section = document.getElementById("print-job");
  var status = document.getElementById("print-status");
  var progress = document.getElementById("print-progress");
  var files = document.getElementById("print-files");

  function say(message) { notice.textContent = message; notice.hidden = !message; }

  function errorText(result) { return apiErrorText(result); }

  function failed(err) {
    if (err instanceof AuthError) { goToLogin(); return; }
    say(T.network_error);
  }

  function loadExams() {
    api("GET", "/api/exams").then(function (result) {
      if (!result.ok) { say(errorText(result)); return; }
      examSelect.replaceChildren.apply(examSelect, result.data.map(function (exam) {
        return el("option", { value: String(exam.id), text: exam.title });
      }));
      var wanted = new URLSearchParams(location.search).get("exam");
      if (wanted) { examSelect.value = wanted; }
      showPaperPrint();
    }).catch(failed);
  }

  /* The paper and the answer sheet of the chosen exam (the teacher's copy only for admins: keys
     are for those who manage the exam). */
  function showPaperPrint() {
    var slot = document.getElementById("paper-print-panel");
    if (!slot || !examSelect.value) { return; }
    slot.replaceChildren(PaperPrint.panel(Number(examSelect.value), auth.user.role === "admin"));
  }
  examSelect.addEventListener("change", showPaperPrint);

  function download(url, name) {
    Auth.fresh().then(function (a) {
      return fetch(url, { headers: { "Authorization": "Bearer " + a.access } });
    }).then(function (resp) {
      if (!resp.ok) { say(T.request_failed + " (" + resp.status + ")"); return null; }
      return resp.blob();
    }).then(function (blob) {
      if (!blob) { return; }
      var href = URL.createObjectURL(blob);
      var link = el("a", { href: href, download: name });
      document.body.appendChild(link);
      link.click();
      link.remove();
      setTimeout(function () { URL.revokeObjectURL(href); }, 10000);
    }).catch(failed);
  }

  function fileButton(url, name, label) {
    var button = el("button", { "class": "btn btn-link", type: "button", "data-url": url, "data-name": name,
                                text: label });
    button.addEventListener("click", function () { download(url, name); });
    return el("li", {}, [button]);
  }

  function show(job) {
    section.hidden = false;
    progress.max = Math.max(job.total, 1);
    progress.value = job.done;
    status.textContent = fmt("print_status_" + job.status, { done: job.done, total: job.total, pages: job.pages,
                                                             error: job.error || "" });
    section.setAttribute("data-status", job.status);
    var items = job.files.map(function (f) {
      return fileButton(f.url, f.name, fmt("print_file", { name: f.name, pages: f.pages }));
    });
    if (job.zip_url) { items.push(fileButton(job.zip_url, "print-" + job.id + ".zip", T.print_zip)); }
    files.replaceChildren.apply(files, items);
  }

  function poll(jobId) {
    api("GET", "/api/print-jobs/" + jobId).then(function (result) {
      if (!result.ok) { say(errorText(result)); return; }
      show(result.data);
      if (result.data.status === "queued" || result.data.status === "running") {
        setTimeout(function () { poll(jobId); }, POLL_MS);
      }
    }).catch(failed);
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    say("");
    var body = { kind: form.elements.kind.value, group_by: form.elements.group_by.value };
    api("POST", "/api/exams/" + examSelect.value + "/print-jobs", body).then(function (result) {
      if (!result.ok) { say(errorText(result)); return; }
      show(result.data);
      poll(result.data.id);
    }).catch(failed);
  });

  loadExams();
})();
