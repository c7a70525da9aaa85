/* The accounts page: roster import (preview report, then apply; initial passwords shown once),
   template and export downloads, and searching accounts to reset, deactivate or reactivate. */
"use strict";

(function () {
  if (!ADMIN_OK) { return; }
  var $ = function (id) { return document.getElementById(id); };
  var schoolId = null;
  var form = $("import-form");
  var result = $("import-result");
  var applyButton = $("apply-button");
  var reload = Admin.schoolPicker($("school-select"), function (id) {
    schoolId = id;
    search();
    clearReport();
    loadClasses();
  });

  function loadClasses() {
    api("GET", "/api/classes?school_id=" + schoolId).then(Admin.data).then(function (classes) {
      var select = $("export-class");
      select.replaceChildren(el("option", { value: "", text: T.all_classes }));
      classes.forEach(function (k) { select.appendChild(el("option", { value: k.id, text: k.name })); });
    }).catch(Admin.fail);
  }

  function clearReport() { result.replaceChildren(); applyButton.disabled = true; }

  function upload(step) {
    var body = new FormData();
    body.append("file", $("roster-file").files[0]);
    body.append("kind", $("roster-kind").value);
    body.append("create_missing", $("roster-create").checked ? "true" : "false");
    return Teacher.authFetch("/api/schools/" + schoolId + "/roster/" + step, { method: "POST", body: body })
      .then(function (resp) {
        return resp.json().catch(function () { return {}; }).then(function (data) {
          return { ok: resp.ok, status: resp.status, data: data };
        });
      });
  }

  function issuesText(row) {
    return row.issues.map(function (i) { return fmt("roster_issue", { row: row.row, column: i.column, detail: i.detail }); })
      .concat(row.notes).join("；");
  }

  function showReport(report) {
    var c = report.counts;
    var rows = report.rows.map(function (r) {
      return Admin.cellRow([String(r.row), T["action_" + r.action], r.number, r.name, r.username,
                            r.class_name || r.teaches.join("、"), issuesText(r)],
                           { "data-row": r.row, "class": r.action === "error" ? "row-error" : null });
    });
    result.replaceChildren(
      el("p", { id: "report-summary", role: "status",
                text: fmt("roster_summary", { create: c.create, update: c.update, error: c.error }) }),
      el("div", { "class": "table-wrap" }, [el("table", { "class": "data-table", id: "report-table" }, [
        el("thead", {}, [el("tr", {}, [T.row, T.action, T.number, T.name, T.username, T.class_name, T.problems]
          .map(function (h) { return el("th", { scope: "col", text: h }); }))]),
        el("tbody", {}, rows)])]));
    applyButton.disabled = c.error > 0 || report.rows.length === 0;
  }

  function showApplied(done) {
    var rows = done.credentials.map(function (c) {
      return Admin.cellRow([c.number, c.name, c.username, c.initial_password]);
    });
    result.replaceChildren(
      el("p", { id: "apply-summary", role: "status",
                text: fmt("roster_applied", { created: done.created, updated: done.updated }) }),
      done.credentials.length ? el("p", { "class": "muted", text: T.initial_passwords_once }) : null,
      done.credentials.length ? el("div", { "class": "table-wrap" }, [el("table", { "class": "data-table", id: "credentials" }, [
        el("thead", {}, [el("tr", {}, [T.number, T.name, T.username, T.initial_password]
          .map(function (h) { return el("th", { scope: "col", text: h }); }))]),
        el("tbody", {}, rows)])]) : null);
    applyButton.disabled = true;
    search();
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (!form.reportValidity()) { return; }
    clearReport();
    upload("preview").then(function (answer) {
      if (!answer.ok) { Teacher.notice(Teacher.errorText(answer)); return; }
      Teacher.notice("");
      showReport(answer.data);
    }).catch(Admin.fail);
  });
  $("roster-file").addEventListener("change", clearReport);

  applyButton.addEventListener("click", function () {
    applyButton.disabled = true;
    upload("apply").then(function (answer) {
      if (answer.ok) { showApplied(answer.data); return; }
      if (answer.data && answer.data.report) { showReport(answer.data.report); }
      Teacher.notice(Teacher.errorText(answer));
    }).catch(Admin.fail);
  });

  function download(path, fallback) {
    Teacher.authFetch(path).then(function (resp) {
      if (!resp.ok) { throw new Error(T.request_failed + " (" + resp.status + ")"); }
      return resp.blob().then(function (blob) { Teacher.saveBlob(blob, Teacher.filenameOf(resp, fallback)); });
    }).catch(Admin.fail);
  }

  $("template-button").addEventListener("click", function () {
    download("/api/schools/" + schoolId + "/roster/template?kind=" + $("roster-kind").value, "template.xlsx");
  });
  $("export-button").addEventListener("click", function () {
    var klass = $("export-class").value;
    download("/api/schools/" + schoolId + "/roster/export?kind=" + $("roster-kind").value +
             (klass ? "&class_id=" + klass : ""), "roster.xlsx");
  });

  function act(path, done) {
    api("POST", path, {}).then(Admin.data).then(done).catch(Admin.fail);
  }

  function userRow(u) {
    var reset = el("button", { type: "button", "class": "btn btn-link", text: T.reset_password });
    reset.addEventListener("click", function () {
      if (!window.confirm(fmt("confirm_reset", { username: u.username }))) { return; }
      act("/api/users/" + u.id + "/password", function (out) {
        $("reset-result").replaceChildren(el("p", { "class": "notice", role: "status",
          text: fmt("reset_done", { username: out.username, password: out.initial_password }) }));
      });
    });
    var toggle = el("button", { type: "button", "class": "btn btn-link",
                                text: u.is_active ? T.deactivate : T.reactivate });
    toggle.addEventListener("click", function () {
      if (u.is_active && !window.confirm(fmt("confirm_deactivate", { username: u.username }))) { return; }
      act("/api/users/" + u.id + (u.is_active ? "/deactivate" : "/reactivate"), search);
    });
    return Admin.cellRow([u.student_number || "", u.display_name, u.username, T["role_" + u.role] || u.role,
                          u.is_active ? T.active : T.inactive, el("span", { "class": "row-actions" }, [reset, toggle])],
                         { "data-user": u.username });
  }

  function search() {
    var q = $("user-query").value.trim();
    var path = "/api/users?limit=200&school_id=" + schoolId + (q ? "&q=" + encodeURIComponent(q) : "");
    api("GET", path).then(Admin.data).then(function (users) {
      $("user-rows").replaceChildren.apply($("user-rows"), users.map(userRow));
    }).catch(Admin.fail);
  }

  $("search-form").addEventListener("submit", function (event) { event.preventDefault(); search(); });
  reload().catch(Admin.fail);
})();
