/* Import (upload + per-item report) and export (the bank selection or every matching item). */
"use strict";

(function () {
  if (!TEACHER_OK) { return; }
  var $ = function (id) { return document.getElementById(id); };

  /* ---------- import ---------- */

  function importError(text) {
    $("import-error").textContent = text;
    $("import-error").hidden = !text;
  }

  function onImport(event) {
    event.preventDefault();
    var form = $("import-form");
    var file = form.elements.file.files[0];
    if (!file) { importError(T.choose_file); form.elements.file.focus(); return; }
    var data = new FormData();
    data.append("file", file, file.name);
    data.append("format", form.elements.format.value);
    data.append("status", form.elements.status.value);
    importError("");
    var button = $("import-button");
    button.disabled = true;
    button.textContent = T.uploading;
    Teacher.authFetch("/api/interchange/import", { method: "POST", body: data }).then(function (resp) {
      return resp.json().catch(function () { return null; }).then(function (body) {
        if (!resp.ok) { importError(Teacher.errorText({ status: resp.status, data: body })); return; }
        showReport(body);
      });
    }).catch(function (err) { importError(Teacher.failure(err)); }).then(function () {
      button.disabled = false;
      button.textContent = T.upload;
    });
  }

  function showReport(report) {
    var counts = report.counts;
    var stored = (counts.imported || 0) + (counts.converted || 0);
    var summary = $("report-summary");
    summary.replaceChildren(
      el("span", { text: fmt("report_file", { file: report.filename, format: report.format }) + " " }),
      el("strong", { "data-count": "stored", "data-value": stored, text: fmt("report_stored", { n: stored }) }),
      el("span", { text: " (" + fmt("report_converted", { n: counts.converted || 0 }) + ") · " }),
      el("strong", { "class": counts.rejected ? "text-danger" : "", "data-count": "rejected",
                     "data-value": counts.rejected || 0, text: fmt("report_rejected", { n: counts.rejected || 0 }) })
    );
    $("report-rows").replaceChildren.apply($("report-rows"), report.rows.map(function (row) {
      var link = row.item_id ? el("a", { href: "/teacher/bank?item=" + row.item_id,
                                         text: fmt("item_link", { id: row.item_id }) }) : null;
      var messages = row.messages.length
        ? el("ul", { "class": "messages" }, row.messages.map(function (m) { return el("li", { text: m }); }))
        : el("span", { "class": "muted", text: "—" });
      return el("tr", { "data-import-status": row.status }, [
        el("td", { text: String(row.index + 1) }),
        el("td", {}, [el("span", { "class": "badge badge-" + row.status, text: T["import_" + row.status] || row.status })]),
        el("td", { text: row.identifier }),
        el("td", {}, [messages]),
        el("td", {}, [link])
      ]);
    }));
    var section = $("import-report");
    section.hidden = false;
    section.focus();
  }

  /* ---------- export ---------- */

  function exportStatus(text, isError) {
    var node = $("export-status");
    node.textContent = text;
    node.className = isError ? "form-error" : "";
  }

  function matchingIds() {
    var params = new URLSearchParams(Teacher.lastSearch() || {});
    var ids = [];
    function page(offset) {
      params.set("limit", "500");
      params.set("offset", String(offset));
      return api("GET", "/api/items?" + params.toString()).then(function (result) {
        if (!result.ok) { throw new Error(Teacher.errorText(result)); }
        result.data.items.forEach(function (item) { ids.push(item.id); });
        var next = offset + result.data.items.length;
        return next < result.data.total && result.data.items.length ? page(next) : ids;
      });
    }
    return page(0);
  }

  function onExport(event) {
    event.preventDefault();
    var form = $("export-form");
    var which = form.elements.which.value;
    var format = form.elements.format.value;
    $("export-notes").replaceChildren();
    var ids = which === "selected" ? Promise.resolve(Teacher.selection()) : matchingIds();
    var button = $("export-button");
    button.disabled = true;
    ids.then(function (list) {
      if (!list.length) { exportStatus(T.export_nothing, true); return; }
      exportStatus(T.exporting, false);
      return Teacher.authFetch("/api/interchange/export", {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ format: format, item_ids: list })
      }).then(function (resp) {
        if (!resp.ok) {
          return resp.json().catch(function () { return null; }).then(function (body) {
            exportStatus(Teacher.errorText({ status: resp.status, data: body }), true);
          });
        }
        var notes = [];
        try { notes = JSON.parse(resp.headers.get("X-Export-Notes") || "[]"); } catch (e) { notes = []; }
        return resp.blob().then(function (blob) {
          Teacher.saveBlob(blob, Teacher.filenameOf(resp, "items-" + format));
          exportStatus(fmt("exported", { n: list.length }), false);
          $("export-notes").replaceChildren.apply($("export-notes"), notes.map(function (n) {
            return el("li", { text: typeof n === "string" ? n : JSON.stringify(n) });
          }));
        });
      });
    }).catch(function (err) { exportStatus(Teacher.failure(err), true); }).then(function () { button.disabled = false; });
  }

  function downloadTemplate() {
    Teacher.authFetch("/api/interchange/template.xlsx").then(function (resp) {
      if (!resp.ok) { importError(T.request_failed + " (" + resp.status + ")"); return; }
      return resp.blob().then(function (blob) { Teacher.saveBlob(blob, Teacher.filenameOf(resp, "question-template.xlsx")); });
    }).catch(function (err) { importError(Teacher.failure(err)); });
  }

  function init() {
    var n = Teacher.selection().length;
    $("export-selected-label").textContent = fmt("export_selected_n", { n: n });
    if (!n) { $("export-form").elements.which.value = "matching"; }
    api("GET", "/api/interchange/formats").then(function (result) {
      if (!result.ok) { Teacher.notice(Teacher.errorText(result)); return; }
      result.data.forEach(function (f) {
        var text = f.label + " (" + f.extension + ")";
        $("import-format").appendChild(el("option", { value: f.name, text: text }));
        $("export-format").appendChild(el("option", { value: f.name, text: text }));
      });
    }).catch(function (err) { Teacher.notice(Teacher.failure(err)); });
  }

  $("import-form").addEventListener("submit", onImport);
  $("export-form").addEventListener("submit", onExport);
  $("template-download").addEventListener("click", downloadTemplate);
  init();
})();
