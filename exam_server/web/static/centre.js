/* The exam centre (考务): sites and rooms, joint exams (sittings, rooms, admission scheme),
   seat allocation, publishing admission numbers, the seat plan per room and attendance.
   Every decision is the API's; this page only collects input and shows answers. */
"use strict";

(function () {
  var auth = Auth.load();
  if (!auth) { goToLogin(); return; }
  var role = auth.user && auth.user.role;
  if (["centre_staff", "admin"].indexOf(role) < 0) { location.href = "/login"; return; }
  showUserName();
  document.getElementById("logout").addEventListener("click", signOut);
  document.getElementById("teacher-link").hidden = role !== "admin";

  var $ = function (id) { return document.getElementById(id); };
  var sites = [];
  var rooms = {};  // room id -> room (with site code)
  var current = null;  // the open joint exam's overview

  function notice(text) { var n = $("page-notice"); n.textContent = text; n.hidden = !text; }
  function errorText(result) { return apiErrorText(result); }
  function failure(err) { if (err instanceof AuthError) { goToLogin(); return ""; } return T.network_error; }
  function localToIso(value) { return value ? new Date(value).toISOString() : null; }
  function ids(text) { return text.split(/[\s,，]+/).filter(Boolean).map(Number).filter(function (n) { return n > 0; }); }

  /* Call the API; on success run `then` with the data, otherwise show the error. */
  function call(method, path, body, then) {
    notice("");
    return api(method, path, body).then(function (result) {
      if (!result.ok) { notice(errorText(result)); return; }
      if (then) { then(result.data); }
    }).catch(function (err) { notice(failure(err)); });
  }

  function options(select, entries) {
    var keep = select.value;
    select.replaceChildren.apply(select, entries.map(function (e) { return el("option", { value: e[0], text: e[1] }); }));
    if (entries.some(function (e) { return String(e[0]) === keep; })) { select.value = keep; }
  }

  function table(headers, rows) {
    return el("table", { "class": "data-table" }, [
      el("thead", {}, [el("tr", {}, headers.map(function (h) { return el("th", { scope: "col", text: h }); }))]),
      el("tbody", {}, rows)
    ]);
  }

  // ---- sites and rooms ---------------------------------------------------------------------
  function loadSites() {
    return call("GET", "/api/sites", undefined, function (data) {
      sites = data;
      options($("room-site"), sites.map(function (s) { return [s.id, s.code + " " + s.name]; }));
      return Promise.all(sites.map(function (s) {
        return api("GET", "/api/sites/" + s.id + "/rooms").then(function (r) { s.rooms = r.ok ? r.data : []; });
      })).then(renderSites);
    });
  }

  function renderSites() {
    rooms = {};
    var rows = [];
    sites.forEach(function (s) {
      (s.rooms || []).forEach(function (r) {
        r.site_code = s.code;
        rooms[r.id] = r;
        rows.push(el("tr", { "data-room": r.code }, [el("td", { text: s.code + " " + s.name }), el("td", { text: r.code }),
          el("td", { "class": "num", text: r.rows + " × " + r.cols }), el("td", { "class": "num", text: String(r.capacity) })]));
      });
    });
    $("site-list").replaceChildren(table([T.centre_site, T.centre_room_code, T.centre_grid, T.centre_capacity], rows));
    options($("exam-room-room"), Object.keys(rooms).map(function (id) { return [id, rooms[id].site_code + " / " + rooms[id].code]; }));
  }

  $("site-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var f = event.target;
    call("POST", "/api/sites", { name: f.name.value.trim(), code: f.code.value.trim() }, function () { f.reset(); loadSites(); });
  });

  $("room-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var f = event.target;
    var body = { code: f.code.value.trim(), name: f.code.value.trim(), rows: Number(f.rows.value), cols: Number(f.cols.value),
                 capacity: f.capacity.value ? Number(f.capacity.value) : null };
    call("POST", "/api/sites/" + f.site.value + "/rooms", body, function () { f.code.value = ""; loadSites(); });
  });

  // ---- joint exams ---------------------------------------------------------------------------
  function loadExams() {
    return call("GET", "/api/centre/exams", undefined, function (data) {
      $("joint-status").textContent = data.length ? "" : T.centre_no_exams;
      $("joint-list").replaceChildren.apply($("joint-list"), data.map(function (exam) {
        var open = el("button", { type: "button", "class": "btn", text: T.centre_open_exam });
        open.addEventListener("click", function () { openExam(exam.id); });
        return el("li", { "class": "card exam-card", "data-exam-id": exam.id }, [
          el("h3", { text: exam.title }),
          el("p", { "class": "muted", text: fmt("centre_exam_summary", { candidates: exam.candidates, seated: exam.seated, rooms: exam.rooms.length }) }),
          open]);
      }));
    });
  }

  $("joint-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var f = event.target;
    var body = { title: f.title.value.trim(), paper_id: Number(f.paper.value), opens_at: localToIso(f.opens.value),
                 closes_at: localToIso(f.closes.value), duration_minutes: Number(f.duration.value),
                 class_ids: ids(f.classes.value), school_ids: ids(f.schools.value) };
    call("POST", "/api/centre/exams", body, function (exam) { loadExams(); show(exam); });
  });

  function openExam(id) { return call("GET", "/api/centre/exams/" + id, undefined, show); }

  function show(exam) {
    current = exam;
    $("exam-panel").hidden = false;
    $("exam-panel-heading").textContent = exam.title;
    var published = exam.admission_published_at ? formatDateTime(new Date(exam.admission_published_at)) : T.centre_not_published;
    $("exam-facts").replaceChildren(
      el("dt", { text: T.centre_candidates }), el("dd", { "data-fact": "candidates", text: exam.candidates + " (" + fmt("centre_seated", { n: exam.seated }) + ")" }),
      el("dt", { text: T.centre_scheme }), el("dd", { text: exam.admission_scheme || "—" }),
      el("dt", { text: T.centre_published }), el("dd", { "data-fact": "published", text: published }),
      el("dt", { text: T.centre_forms }), el("dd", { text: exam.form_mode }));
    options($("exam-room-sitting"), exam.sittings.map(function (s) { return [s.id, s.name + (s.is_makeup ? " · " + T.centre_makeup : "")]; }));
    var roomEntries = exam.rooms.map(function (r) { return [r.exam_room_id, fmt("centre_room_number", { n: r.number }) + " " + r.code]; });
    options($("plan-room"), roomEntries);
    options($("move-room"), roomEntries);
    $("settings-scheme").value = exam.admission_scheme || "";
    $("settings-seed").value = exam.seat_seed;
    $("allocate").disabled = $("publish").disabled = !!exam.admission_published_at;
    loadCandidates();
    loadPlan();
  }

  function reload() { return openExam(current.id).then(loadExams); }

  $("sitting-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var f = event.target;
    var body = { name: f.name.value.trim(), opens_at: localToIso(f.opens.value), closes_at: localToIso(f.closes.value),
                 is_makeup: f.makeup.checked };
    call("POST", "/api/centre/exams/" + current.id + "/sittings", body, function (exam) { f.reset(); show(exam); });
  });

  $("exam-room-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var f = event.target;
    var body = { sitting_id: Number(f.sitting.value), room_id: Number(f.room.value), form_label: f.form.value.trim() || null };
    call("POST", "/api/centre/exams/" + current.id + "/rooms", body, show);
  });

  $("settings-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var f = event.target;
    var body = { admission_scheme: f.scheme.value.trim() || null, seat_seed: f.seed.value === "" ? null : Number(f.seed.value) };
    call("PUT", "/api/centre/exams/" + current.id + "/settings", body, show);
  });

  $("allocate").addEventListener("click", function () {
    call("POST", "/api/centre/exams/" + current.id + "/allocate", undefined, function (report) {
      $("allocation-report").replaceChildren.apply($("allocation-report"), report.map(function (s) {
        var text = fmt("centre_allocation", { name: s.name, n: s.candidates, seats: s.seats, pairs: s.same_class_adjacent_pairs,
                                              bound: s.adjacency_lower_bound });
        return el("p", { "data-sitting": s.sitting_id }, [el("span", { text: text })].concat(
          s.reasons.map(function (r) { return el("span", { "class": "muted", text: " " + r }); })));
      }));
      reload();
    });
  });

  $("publish").addEventListener("click", function () {
    call("POST", "/api/centre/exams/" + current.id + "/publish", undefined, function (exam) { show(exam); loadExams(); });
  });

  // ---- seat plan and attendance --------------------------------------------------------------
  function loadPlan() {
    var room = $("plan-room").value;
    if (!room) { $("seat-plan").replaceChildren(); return; }
    call("GET", "/api/centre/exams/" + current.id + "/rooms/" + room + "/plan", undefined, renderPlan);
  }
  $("plan-room").addEventListener("change", loadPlan);

  function renderPlan(plan) {
    var grid = $("seat-plan");
    grid.style.gridTemplateColumns = "repeat(" + plan.cols + ", minmax(6rem, 1fr))";
    var bySeat = {};
    plan.seats.forEach(function (s) { bySeat[s.seat_no] = s; });
    var cells = [];
    for (var n = 1; n <= plan.rows * plan.cols; n++) {
      var s = bySeat[n];
      var unused = n > plan.capacity;
      cells.push(el("div", { role: "gridcell", "class": "seat" + (s ? "" : " seat-empty") + (unused ? " seat-unused" : "") + (s && s.absent ? " seat-absent" : ""),
                             "data-seat": n }, s ? [
        el("strong", { text: n + " · " + s.display_name }),
        el("span", { text: s.class_name || "" }),
        el("span", { "class": "admission-no", text: s.admission_no || "—" }),
        el("span", { text: (s.form_label ? s.form_label + " " : "") + (s.absent ? T.centre_absent : "") })
      ] : [el("span", { "class": "muted", text: unused ? "" : String(n) })]));
    }
    grid.replaceChildren.apply(grid, cells);
  }

  function loadCandidates() {
    call("GET", "/api/centre/exams/" + current.id + "/candidates", undefined, function (rows) {
      options($("move-candidate"), rows.map(function (c) { return [c.user_id, c.display_name + " (" + c.username + ")"]; }));
      $("candidate-table").replaceChildren(table(
        [T.student, T.centre_class, T.centre_room, T.centre_seat, T.centre_admission_no, T.centre_extra, ""],
        rows.map(function (c) {
          var toggle = el("button", { type: "button", "class": "btn", text: c.absent ? T.centre_mark_present : T.centre_mark_absent });
          toggle.addEventListener("click", function () {
            call("POST", "/api/centre/exams/" + current.id + "/candidates/" + c.user_id + "/absent", { absent: !c.absent }, function () { loadCandidates(); loadPlan(); });
          });
          return el("tr", { "data-user": c.username }, [el("td", { text: c.display_name }), el("td", { text: c.class_name || "—" }),
            el("td", { text: c.room_number === null ? "—" : String(c.room_number) }), el("td", { text: c.seat_no === null ? "—" : String(c.seat_no) }),
            el("td", { text: c.admission_no || "—" }), el("td", { text: String(c.extra_minutes) }), el("td", {}, [toggle])]);
        })));
    });
  }

  $("move-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var f = event.target;
    var body = { exam_room_id: Number(f.room.value), seat_no: f.seat.value ? Number(f.seat.value) : null };
    call("POST", "/api/centre/exams/" + current.id + "/candidates/" + f.candidate.value + "/move", body, function () {
      loadCandidates(); loadPlan();
    });
  });

  loadSites();
  loadExams();
})();
