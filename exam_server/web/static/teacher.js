/* Shared by the teacher's pages: the staff-only guard, sign-out, the knowledge-point tree,
   labels for types and statuses, authenticated downloads/uploads, and the bank selection. */
"use strict";

var ITEM_TYPES = ["single_choice", "multiple_choice", "true_false", "fill_blank", "numeric", "short_answer",
                  "essay", "matching", "ordering", "inline_choice"];
var ITEM_STATUSES = ["draft", "reviewed", "retired"];
var SHARE_SCOPES = ["private", "school", "district"];

var Teacher = (function () {
  var SELECTION_KEY = "teacher.selection";
  var SEARCH_KEY = "teacher.search";
  var pointsPromise = null;

  function guard() {
    var auth = Auth.load();
    if (!auth) { goToLogin(); return false; }
    var role = auth.user && auth.user.role;
    if (["teacher", "reviewer", "admin", "school_admin"].indexOf(role) < 0) { location.href = homeFor(auth.user); return false; }
    showUserName();
    var centre = document.getElementById("centre-link");
    if (centre) { centre.hidden = role !== "admin"; }  // district admins also run the exam centre
    var logout = document.getElementById("logout");
    if (logout) { logout.addEventListener("click", signOut); }
    return true;
  }

  /* Any non-JSON request with the bearer token (uploads, downloads); retried once after a refresh. */
  function authFetch(path, init) {
    function send(auth) {
      var options = Object.assign({}, init || {});
      options.headers = Object.assign({}, options.headers || {}, { "Authorization": "Bearer " + auth.access });
      return fetch(path, options).catch(function (err) { throw new NetworkError(String(err)); });
    }
    return Auth.fresh().then(function (auth) {
      return send(auth).then(function (resp) {
        if (resp.status !== 401) { return resp; }
        return resp.clone().json().catch(function () { return {}; }).then(function (body) {
          if (body && body.error === "TokenExpired") { return Auth.refresh().then(send); }
          return resp;
        });
      });
    }).then(function (resp) {
      if (resp.status === 401) { Auth.clear(); throw new AuthError(); }
      return resp;
    });
  }

  function saveBlob(blob, filename) {
    var url = URL.createObjectURL(blob);
    var link = el("a", { href: url, download: filename });
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(function () { URL.revokeObjectURL(url); }, 10000);
  }

  function filenameOf(resp, fallback) {
    var header = resp.headers.get("Content-Disposition") || "";
    var match = /filename\*=UTF-8''([^;]+)/i.exec(header);
    return match ? decodeURIComponent(match[1]) : fallback;
  }

  /* The knowledge points in tree order, each with its depth: [{id, name, parent_id, path, depth}]. */
  function points() {
    if (!pointsPromise) {
      pointsPromise = api("GET", "/api/knowledge-points").then(function (result) {
        if (!result.ok) { throw new Error(errorText(result)); }
        return treeOrder(result.data);
      });
      pointsPromise.catch(function () { pointsPromise = null; });
    }
    return pointsPromise;
  }

  function treeOrder(flat) {
    var children = {};
    flat.forEach(function (p) {
      var key = p.parent_id === null ? "root" : String(p.parent_id);
      (children[key] = children[key] || []).push(p);
    });
    var out = [];
    (function walk(key, depth) {
      (children[key] || []).sort(function (a, b) { return a.name.localeCompare(b.name); }).forEach(function (p) {
        out.push(Object.assign({ depth: depth }, p));
        walk(String(p.id), depth + 1);
      });
    })("root", 0);
    return out;
  }

  function fillPointSelect(select, list) {
    list.forEach(function (p) {
      var indent = new Array(p.depth + 1).join("\u3000");  // ideographic spaces keep the indent in a <select>
      select.appendChild(el("option", { value: p.id, text: indent + p.name, title: p.path.join(" / ") }));
    });
  }

  function pointNames(list) {
    var names = {};
    list.forEach(function (p) { names[p.id] = p.path.join(" / "); });
    return names;
  }

  function typeLabel(type) { return T["type_" + type] || type; }
  function statusLabel(status) { return T["status_" + status] || status; }

  function fillOptions(select, values, label) {
    values.forEach(function (v) { select.appendChild(el("option", { value: v, text: label(v) })); });
  }

  function errorText(result) { return apiErrorText(result); }

  function failure(err) {
    if (err instanceof AuthError) { goToLogin(); return ""; }
    return err instanceof NetworkError ? T.network_error : String(err && err.message || err);
  }

  function notice(text) {
    var node = document.getElementById("page-notice");
    node.textContent = text;
    node.hidden = !text;
  }

  function excerpt(text, max) {
    var flat = String(text || "").replace(/\s+/g, " ").trim();
    return flat.length > max ? flat.slice(0, max - 1) + "…" : flat;
  }

  function number(value, digits) {
    if (value === null || value === undefined || isNaN(value)) { return "—"; }
    return Number(value).toLocaleString(T.locale, { maximumFractionDigits: digits === undefined ? 2 : digits });
  }

  function selection() {
    try { return JSON.parse(sessionStorage.getItem(SELECTION_KEY) || "[]"); } catch (e) { return []; }
  }
  function setSelection(ids) { sessionStorage.setItem(SELECTION_KEY, JSON.stringify(ids)); }

  function lastSearch() {
    try { return JSON.parse(sessionStorage.getItem(SEARCH_KEY) || "null"); } catch (e) { return null; }
  }
  function setLastSearch(params) { sessionStorage.setItem(SEARCH_KEY, JSON.stringify(params)); }

  /* "2024-05-01T08:00" (local, from <input type=datetime-local>) -> ISO 8601 with this browser's offset. */
  function localToIso(value) {
    if (!value) { return null; }
    var date = new Date(value);
    if (isNaN(date.getTime())) { return null; }
    var offset = -date.getTimezoneOffset();
    var sign = offset >= 0 ? "+" : "-";
    var abs = Math.abs(offset);
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    var base = value.length === 16 ? value + ":00" : value;
    return base + sign + pad(Math.floor(abs / 60)) + ":" + pad(abs % 60);
  }

  /* A Date as the value of an <input type=datetime-local> (local time, minutes). */
  function toLocalInput(date) {
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    return date.getFullYear() + "-" + pad(date.getMonth() + 1) + "-" + pad(date.getDate()) + "T" +
      pad(date.getHours()) + ":" + pad(date.getMinutes());
  }

  return {
    guard: guard, authFetch: authFetch, saveBlob: saveBlob, filenameOf: filenameOf, points: points,
    fillPointSelect: fillPointSelect, pointNames: pointNames, typeLabel: typeLabel, statusLabel: statusLabel,
    fillOptions: fillOptions, errorText: errorText, failure: failure, notice: notice, excerpt: excerpt,
    number: number, selection: selection, setSelection: setSelection, lastSearch: lastSearch,
    setLastSearch: setLastSearch, localToIso: localToIso, toLocalInput: toLocalInput
  };
})();

var TEACHER_OK = Teacher.guard();
