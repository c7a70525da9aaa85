/* The organisation page: districts and schools (district admins), then one school's grades,
   classes and teacher assignments (its admins). */
"use strict";

(function () {
  if (!ADMIN_OK) { return; }
  var $ = function (id) { return document.getElementById(id); };
  var schoolId = null;
  var reloadSchools = Admin.schoolPicker($("school-select"), function (id) { schoolId = id; loadSchool(); });

  function send(method, path, body) {
    return api(method, path, body).then(Admin.data);
  }

  function loadDistricts() {
    return send("GET", "/api/districts").then(function (districts) {
      $("district-list").replaceChildren.apply($("district-list"), districts.map(function (d) {
        return el("li", { text: d.code ? d.name + " (" + d.code + ")" : d.name });
      }));
      var select = $("school-district");
      select.replaceChildren(el("option", { value: "", text: "—" }));
      districts.forEach(function (d) { select.appendChild(el("option", { value: d.id, text: d.name })); });
    });
  }

  function loadSchool() {
    Teacher.notice("");
    Promise.all([send("GET", "/api/schools/" + schoolId + "/grades"),
                 send("GET", "/api/classes?school_id=" + schoolId),
                 send("GET", "/api/schools/" + schoolId + "/assignments"),
                 send("GET", "/api/users?limit=1000&role=teacher&school_id=" + schoolId)])
      .then(function (all) { render(all[0], all[1], all[2], all[3]); }).catch(Admin.fail);
  }

  function render(grades, classes, assignments, teachers) {
    $("class-rows").replaceChildren.apply($("class-rows"), classes.map(function (k) {
      return Admin.cellRow([k.grade_name || "—", k.name, String(k.students)], { "data-class": k.name });
    }));
    var gradeSelect = $("class-grade");
    gradeSelect.replaceChildren(el("option", { value: "", text: "—" }));
    grades.forEach(function (g) { gradeSelect.appendChild(el("option", { value: g.id, text: g.name })); });
    $("assign-class").replaceChildren.apply($("assign-class"), classes.map(function (k) {
      return el("option", { value: k.id, text: k.name });
    }));
    $("assign-teacher").replaceChildren.apply($("assign-teacher"), teachers.map(function (u) {
      return el("option", { value: u.id, text: u.display_name + " (" + u.username + ")" });
    }));
    $("assignment-rows").replaceChildren.apply($("assignment-rows"), assignments.map(function (a) {
      var remove = el("button", { type: "button", "class": "btn btn-link", text: T.remove });
      remove.addEventListener("click", function () {
        send("DELETE", "/api/classes/" + a.class_id + "/teachers/" + a.teacher_id + "/" +
             encodeURIComponent(a.subject)).catch(function () {}).then(loadSchool);
      });
      return Admin.cellRow([a.teacher_name, a.class_name, a.subject, remove]);
    }));
  }

  function onSubmit(form, build) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!form.reportValidity()) { return; }
      var call = build();
      call.then(function () { form.reset(); }).catch(Admin.fail);
    });
  }

  function optional(value) { return value === "" ? null : value; }

  onSubmit($("district-form"), function () {
    return send("POST", "/api/districts", { name: $("district-name").value.trim(),
                                            code: optional($("district-code").value.trim()) }).then(loadDistricts);
  });
  onSubmit($("school-form"), function () {
    return send("POST", "/api/schools", {
      name: $("school-name").value.trim(), code: optional($("school-code").value.trim()),
      district_id: optional($("school-district").value) === null ? null : Number($("school-district").value)
    }).then(reloadSchools);
  });
  onSubmit($("grade-form"), function () {
    var year = $("grade-year").value;
    return send("POST", "/api/schools/" + schoolId + "/grades",
                { name: $("grade-name").value.trim(), entry_year: year ? Number(year) : null }).then(loadSchool);
  });
  onSubmit($("class-form"), function () {
    var grade = $("class-grade").value;
    return send("POST", "/api/schools/" + schoolId + "/classes",
                { name: $("class-name").value.trim(), grade_id: grade ? Number(grade) : null }).then(loadSchool);
  });
  onSubmit($("assign-form"), function () {
    return send("POST", "/api/classes/" + $("assign-class").value + "/teachers", {
      teacher_id: Number($("assign-teacher").value), subject: $("assign-subject").value.trim()
    }).then(loadSchool);
  });

  if (Admin.isDistrict()) {
    $("district-section").hidden = false;
    loadDistricts().catch(Admin.fail);
  }
  reloadSchools().catch(Admin.fail);
})();
