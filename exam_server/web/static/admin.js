/* Shared by the admin pages (district and school admins), on top of teacher.js's helpers:
   the role guard and the school picker every page starts from. */
"use strict";

var Admin = (function () {
  var SCHOOL_KEY = "admin.school";

  function guard() {
    if (!TEACHER_OK) { return false; }
    var user = Auth.load().user;
    if (["admin", "school_admin"].indexOf(user.role) < 0) { location.href = homeFor(user); return false; }
    return true;
  }

  function isDistrict() { return Auth.load().user.role === "admin"; }

  function data(result) {
    if (!result.ok) { throw new Error(Teacher.errorText(result)); }
    return result.data;
  }

  /* Fill the school <select> (a school admin has one), keep the choice across pages, and call
     onChange(schoolId) now and on every change. */
  function schoolPicker(select, onChange) {
    function load() {
      return api("GET", "/api/schools").then(data).then(function (schools) {
        var kept = sessionStorage.getItem(SCHOOL_KEY);
        select.replaceChildren();
        schools.forEach(function (s) {
          select.appendChild(el("option", { value: s.id, text: s.code ? s.name + " (" + s.code + ")" : s.name }));
        });
        if (kept && schools.some(function (s) { return String(s.id) === kept; })) { select.value = kept; }
        if (select.value) { onChange(Number(select.value)); }
        return schools;
      });
    }
    select.addEventListener("change", function () {
      sessionStorage.setItem(SCHOOL_KEY, select.value);
      onChange(Number(select.value));
    });
    return load;
  }

  function fail(err) { Teacher.notice(Teacher.failure(err)); }

  function cellRow(values, attrs) {
    return el("tr", attrs || {}, values.map(function (v) {
      return v instanceof Node ? el("td", {}, [v]) : el("td", { text: v === null || v === undefined ? "" : v });
    }));
  }

  return { guard: guard, isDistrict: isDistrict, data: data, schoolPicker: schoolPicker, fail: fail,
           cellRow: cellRow };
})();

var ADMIN_OK = Admin.guard();
