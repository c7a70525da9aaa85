/* Scanned answer sheets: upload a batch (upload progress, then the reading's progress by polling),
   per-batch results page by page, and the exception queue with the page, the area concerned, the
   reading and one-key decisions (A accept, X absent, D discard, N number, F field value, J next). */
"use strict";

(function () {
  var ROLES = ["teacher", "reviewer", "admin", "centre_staff"];
  var POLL_MS = 1000;
  var auth = Auth.load();
  if (!auth) { goToLogin(); return; }
  if (ROLES.indexOf(auth.user && auth.user.role) < 0) { location.href = homeFor(auth.user); return; }
  showUserName();
  document.getElementById("logout").addEventListener("click", signOut);

  var $ = function (id) { return document.getElementById(id); };
  var examSelect = $("scan-exam");
  var queue = [];
  var current = null;

  function say(message) { $("page-notice").textContent = message; $("page-notice").hidden = !message; }

  var errorText = apiErrorText;

  function failed(err) {
    if (err instanceof AuthError) { goToLogin(); return; }
    say(T.network_error);
  }

  function issueText(code) { return code ? (T["issue_" + code] || code) : "—"; }

  function authBlob(url) {
    return Auth.fresh().then(function (a) {
      return fetch(url, { headers: { "Authorization": "Bearer " + a.access } });
    }).then(function (resp) { return resp.ok ? resp.blob() : null; });
  }

  /* ---------- exams and batches ---------- */

  function loadExams() {
    api("GET", "/api/exams").then(function (result) {
      if (!result.ok) { say(errorText(result)); return; }
      examSelect.replaceChildren.apply(examSelect, result.data.map(function (exam) {
        return el("option", { value: String(exam.id), text: exam.title });
      }));
      var wanted = new URLSearchParams(location.search).get("exam");
      if (wanted) { examSelect.value = wanted; }
      examChanged();
    }).catch(failed);
  }

  function examChanged() { loadBatches(); loadQueue(); }

  function loadBatches() {
    if (!examSelect.value) { return; }
    api("GET", "/api/exams/" + examSelect.value + "/scan-batches").then(function (result) {
      if (!result.ok) { say(errorText(result)); return; }
      $("scan-batches").replaceChildren.apply($("scan-batches"), result.data.map(function (b) {
        var button = el("button", { "class": "btn btn-link", type: "button", "data-batch": String(b.id),
                                    text: fmt("scans_batch_line", batchValues(b)) });
        button.addEventListener("click", function () { poll(b.id); });
        return el("li", {}, [button]);
      }));
    }).catch(failed);
  }

  function batchValues(b) {
    return { id: b.id, done: b.done, pages: b.pages, read: b.read_ok, exceptions: b.exceptions,
             duplicates: b.duplicates, error: b.error || "", status: T["scans_status_" + b.status] || b.status };
  }

  function showBatch(b) {
    $("scan-batch").hidden = false;
    $("scan-batch").setAttribute("data-status", b.status);
    $("scan-progress").max = Math.max(b.pages, 1);
    $("scan-progress").value = b.done;
    $("scan-status").textContent = fmt("scans_progress_" + b.status, batchValues(b));
    $("scan-pages").replaceChildren.apply($("scan-pages"), (b.page_list || []).map(function (p, i) {
      return el("tr", { "data-page-status": p.status }, [
        el("td", { text: String(i + 1) }), el("td", { text: p.source }),
        el("td", { text: T["scans_page_" + p.status] || p.status }), el("td", { text: issueText(p.issue_code) }),
        el("td", { text: p.admission_no || "—" })
      ]);
    }));
  }

  function poll(batchId) {
    api("GET", "/api/scan-batches/" + batchId).then(function (result) {
      if (!result.ok) { say(errorText(result)); return; }
      showBatch(result.data);
      if (result.data.status === "queued" || result.data.status === "running") {
        setTimeout(function () { poll(batchId); }, POLL_MS);
      } else { loadBatches(); loadQueue(); }
    }).catch(failed);
  }

  /* The upload goes through XMLHttpRequest for its upload progress events. */
  function upload(event) {
    event.preventDefault();
    say("");
    var form = $("scan-form");
    var data = new FormData();
    Array.prototype.forEach.call(form.elements.files.files, function (f) { data.append("files", f, f.name); });
    if (form.elements.layout.files[0]) { data.append("layout", form.elements.layout.files[0]); }
    var button = $("scan-start");
    button.disabled = true;
    Auth.fresh().then(function (a) {
      var xhr = new XMLHttpRequest();
      xhr.open("POST", "/api/exams/" + examSelect.value + "/scan-batches");
      xhr.setRequestHeader("Authorization", "Bearer " + a.access);
      $("scan-batch").hidden = false;
      xhr.upload.onprogress = function (e) {
        if (!e.lengthComputable) { return; }
        $("scan-progress").max = e.total;
        $("scan-progress").value = e.loaded;
        $("scan-status").textContent = fmt("scans_uploading", { percent: Math.round(100 * e.loaded / e.total) });
      };
      xhr.onload = function () {
        button.disabled = false;
        var body = null;
        try { body = JSON.parse(xhr.responseText); } catch (e) { body = null; }
        if (xhr.status !== 202) { say(errorText({ status: xhr.status, data: body })); return; }
        form.reset();
        poll(body.id);
      };
      xhr.onerror = function () { button.disabled = false; say(T.network_error); };
      xhr.send(data);
    }).catch(function (err) { button.disabled = false; failed(err); });
  }

  /* ---------- the exception queue ---------- */

  function loadQueue() {
    if (!examSelect.value) { return; }
    var code = $("queue-code").value;
    var url = "/api/exams/" + examSelect.value + "/scan-exceptions" + (code ? "?code=" + encodeURIComponent(code) : "");
    api("GET", url).then(function (result) {
      if (!result.ok) { say(errorText(result)); return; }
      fillCodes(result.data.counts);
      queue = result.data.pages;
      showNext();
    }).catch(failed);
  }

  function fillCodes(counts) {
    var select = $("queue-code");
    var chosen = select.value;
    var options = [el("option", { value: "", text: T.scans_all })];
    Object.keys(counts).sort().forEach(function (code) {
      options.push(el("option", { value: code, text: issueText(code) + " (" + counts[code] + ")" }));
    });
    select.replaceChildren.apply(select, options);
    select.value = chosen;
  }

  function showNext() {
    if (document.activeElement && document.activeElement.blur) { document.activeElement.blur(); }  // keys work again
    current = queue.shift() || null;
    $("queue-item").hidden = !current;
    $("queue-status").textContent = current ? fmt("scans_queue_left", { n: queue.length + 1 }) : T.scans_queue_empty;
    if (!current) { return; }
    $("queue-title").textContent = current.source + " · " + issueText(current.issue_code);
    $("queue-reason").textContent = current.issue_reason || "";
    $("queue-number").value = current.admission_no || "";
    $("queue-value").value = "";
    showReading(current.reading);
    showImages(current);
  }

  function showReading(reading) {
    var rows = [];
    if (reading) {
      rows.push(el("tr", {}, [el("th", { text: T.scans_admission }), el("td", { text: reading.admission_no || "—" })]));
      rows.push(el("tr", {}, [el("th", { text: T.scans_absent }), el("td", { text: reading.absent ? "✔" : "—" })]));
      Object.keys(reading.fields || {}).forEach(function (name) {
        var f = reading.fields[name];
        var flagged = current && current.issue_field === name;
        rows.push(el("tr", { "class": flagged ? "text-danger" : "" }, [
          el("th", { text: fmt("scans_question", { n: name }) }),
          el("td", { text: (f.value || "—") + " · " + (T["scans_field_" + f.status] || f.status) })
        ]));
      });
    }
    $("queue-reading").replaceChildren.apply($("queue-reading"), rows);
  }

  /* Images come with the bearer token (fetch), shown as data: URLs (the CSP allows data:, not blob:). */
  function showImages(page) {
    $("queue-page").removeAttribute("src");
    $("queue-area").removeAttribute("src");
    if (!page.image_url) { return; }
    var area = page.issue_field || (/^id_/.test(page.issue_code || "") ? "id" : null) ||
               (page.issue_code === "absent_with_answers" ? "absent" : null);
    var wanted = [[page.image_url, "queue-page"]];
    if (area) { wanted.push([page.image_url + "?area=" + encodeURIComponent(area), "queue-area"]); }
    wanted.forEach(function (pair) {
      authBlob(pair[0]).then(function (blob) {
        if (!blob || current !== page) { return; }
        var reader = new FileReader();
        reader.onload = function () { if (current === page) { $(pair[1]).src = reader.result; } };
        reader.readAsDataURL(blob);
      }).catch(failed);
    });
  }

  function decide(body) {
    if (!current) { return; }
    var page = current;
    api("POST", "/api/scan-pages/" + page.id + "/resolve", body).then(function (result) {
      if (!result.ok) { say(errorText(result)); return; }
      say("");
      if (result.data.status === "exception") { current = result.data; queue.unshift(result.data); }
      showNext();
    }).catch(failed);
  }

  function act(action) {
    if (!current) { return; }
    if (action === "skip") { showNext(); return; }
    decide({ action: action });
  }

  $("queue-form").addEventListener("click", function (event) {
    var button = event.target.closest("button[data-action]");
    if (button) { act(button.getAttribute("data-action")); }
  });
  $("queue-number").addEventListener("keydown", function (event) {
    if (event.key !== "Enter") { return; }
    event.preventDefault();
    decide({ action: "set_admission_no", admission_no: $("queue-number").value.trim() });
  });
  $("queue-value").addEventListener("keydown", function (event) {
    if (event.key !== "Enter" || !current) { return; }
    event.preventDefault();
    decide({ action: "set_field", field: current.issue_field, value: $("queue-value").value.trim().toUpperCase() });
  });
  document.addEventListener("keydown", function (event) {
    var typing = /^(INPUT|SELECT|TEXTAREA)$/.test(event.target.tagName);
    if (typing || event.ctrlKey || event.metaKey || event.altKey || !current) { return; }
    var keys = { a: "accept", x: "absent", d: "discard", j: "skip" };
    var key = event.key.toLowerCase();
    if (keys[key]) { event.preventDefault(); act(keys[key]); }
    else if (key === "n") { event.preventDefault(); $("queue-number").focus(); $("queue-number").select(); }
    else if (key === "f") { event.preventDefault(); $("queue-value").focus(); }
  });

  $("scan-form").addEventListener("submit", upload);
  examSelect.addEventListener("change", examChanged);
  $("queue-code").addEventListener("change", loadQueue);
  loadExams();
})();
