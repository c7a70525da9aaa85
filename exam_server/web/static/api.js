/* Shared by every page: UI strings, tokens in sessionStorage, and an API client that keeps
   the access token fresh (refresh ahead of expiry, and once more on a 401 TokenExpired). */
"use strict";

var T = JSON.parse(document.getElementById("i18n").textContent);

function fmt(key, values) {
  return (T[key] || key).replace(/\{(\w+)\}/g, function (_, name) {
    return values && name in values ? String(values[name]) : "{" + name + "}";
  });
}

var Auth = (function () {
  var KEY = "exam.auth";
  var REFRESH_MARGIN_MS = 60 * 1000;
  var refreshing = null;
  var timer = null;

  function load() {
    try { return JSON.parse(sessionStorage.getItem(KEY) || "null"); } catch (e) { return null; }
  }

  function store(tokens) {
    var data = {
      access: tokens.access_token,
      refresh: tokens.refresh_token,
      expiresAt: Date.now() + tokens.expires_in * 1000,
      user: tokens.user
    };
    sessionStorage.setItem(KEY, JSON.stringify(data));
    schedule();
    return data;
  }

  function clear() {
    sessionStorage.removeItem(KEY);
    if (timer) { clearTimeout(timer); timer = null; }
  }

  function schedule() {
    var data = load();
    if (timer) { clearTimeout(timer); }
    if (!data) { return; }
    var wait = Math.max(1000, data.expiresAt - Date.now() - REFRESH_MARGIN_MS);
    timer = setTimeout(function () { refresh().catch(function () {}); }, wait);
  }

  /* One refresh at a time: refresh tokens are single-use, so a second concurrent refresh
     with the same token would be rejected. */
  function refresh() {
    if (refreshing) { return refreshing; }
    var data = load();
    if (!data) { return Promise.reject(new AuthError()); }
    refreshing = fetch("/api/auth/refresh", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ refresh_token: data.refresh })
    }).then(function (resp) {
      return resp.json().catch(function () { return {}; }).then(function (body) {
        if (resp.ok) { return store(body); }
        if (resp.status === 401) { clear(); throw new AuthError(); }
        throw new NetworkError("refresh " + resp.status);
      });
    }, function (err) { throw new NetworkError(String(err)); });
    refreshing.then(done, done);
    return refreshing;
    function done() { refreshing = null; }
  }

  function fresh() {
    var data = load();
    if (!data) { return Promise.reject(new AuthError()); }
    if (data.expiresAt - Date.now() < REFRESH_MARGIN_MS / 2) { return refresh(); }
    return Promise.resolve(data);
  }

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible" && load()) {
      fresh().then(schedule, function () {});
    }
  });

  return { load: load, store: store, clear: clear, refresh: refresh, fresh: fresh, schedule: schedule };
})();

function AuthError() { this.name = "AuthError"; this.message = "not signed in"; }
AuthError.prototype = Object.create(Error.prototype);
function NetworkError(message) { this.name = "NetworkError"; this.message = message; }
NetworkError.prototype = Object.create(Error.prototype);

/* Resolves {ok, status, data} for any HTTP answer; rejects with NetworkError when the server
   cannot be reached and with AuthError when the session is gone. */
function api(method, path, body) {
  return Auth.fresh().then(function (auth) {
    return send(auth).then(function (result) {
      if (result.status === 401 && result.data && result.data.error === "TokenExpired") {
        return Auth.refresh().then(send);
      }
      return result;
    });
  }).then(function (result) {
    if (result.status === 401) { Auth.clear(); throw new AuthError(); }
    if (result.status === 403 && result.data && result.data.error === "PasswordChangeRequired") {
      goToPasswordChange();
    }
    return result;
  });

  function send(auth) {
    var init = { method: method, headers: { "Authorization": "Bearer " + auth.access } };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(path, init).then(function (resp) {
      return resp.json().catch(function () { return null; }).then(function (data) {
        return { ok: resp.ok, status: resp.status, data: data, retryAfter: resp.headers.get("Retry-After") };
      });
    }, function (err) { throw new NetworkError(String(err)); });
  }
}

/* What a person reads for a failed API answer: the localised text of its stable error code
   (locales' "error_<code>"), then the server's detail; the HTTP status when there is neither. */
function apiErrorText(result) {
  var data = result && result.data;
  var detail = data && data.detail ? (typeof data.detail === "string" ? data.detail : JSON.stringify(data.detail)) : "";
  // The server's sentence in the reader's language first; the English detail (what and where) after.
  var message = data && (data.message || (data.error && T["error_" + data.error]));
  if (message) { return detail && detail !== message ? message + " (" + T.error_detail + detail + ")" : message; }
  return detail || fmt("centre_http_error", { status: result ? result.status : "?" });
}

/* The landing page of a role: admins of a district or school /admin, teaching staff /teacher,
   exam-centre staff /centre/print, markers /teacher/marking, everyone else /student. */
function homeFor(user) {
  var role = user && user.role;
  if (["admin", "school_admin"].indexOf(role) >= 0) { return "/admin"; }
  if (role === "centre_staff") { return "/centre"; }
  if (role === "marker") { return "/teacher/marking"; }
  return ["teacher", "reviewer"].indexOf(role) >= 0 ? "/teacher" : "/student";
}

/* An initial or reset password: choose a new one first, then come back here. */
function goToPasswordChange() {
  if (location.pathname === "/password") { return; }
  location.href = "/password?next=" + encodeURIComponent(location.pathname + location.search);
}

function goToLogin() {
  var next = location.pathname + location.search;
  location.href = "/login?next=" + encodeURIComponent(next);
}

function formatDateTime(date) {
  return date.toLocaleString(T.locale, {
    year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit"
  });
}

function el(tag, attrs, children) {
  var node = document.createElement(tag);
  Object.keys(attrs || {}).forEach(function (key) {
    var value = attrs[key];
    if (value === null || value === undefined || value === false) { return; }
    if (key === "text") { node.textContent = value; } else { node.setAttribute(key, value === true ? "" : value); }
  });
  (children || []).forEach(function (child) { if (child) { node.appendChild(child); } });
  return node;
}

function showUserName() {
  var data = Auth.load();
  var slot = document.getElementById("user-name");
  if (data && data.user && slot) { slot.textContent = data.user.display_name; }
}

if (Auth.load()) { Auth.schedule(); }

/* Sign out: end this sign-in on the server (best effort): the refresh token in the body names it,
   the access token in the header too (so it still works when the refresh token has expired);
   both stop working at once. Then forget the tokens and go to login. */
function signOut() {
  var auth = Auth.load();
  var revoke = auth ? fetch("/api/auth/logout", {
    method: "POST",
    headers: { "Content-Type": "application/json", "Authorization": "Bearer " + auth.access },
    body: JSON.stringify({ refresh_token: auth.refresh })
  }).catch(function () {}) : Promise.resolve();
  return revoke.then(function () { Auth.clear(); location.href = "/login"; });
}
