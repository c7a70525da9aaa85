/* The sign-in form: POST /api/auth/login, keep the tokens, go to the page for the user's role
   (homeFor in api.js) unless ?next= names a page; an initial or reset password goes to /password first. */
"use strict";

(function () {
  var form = document.getElementById("login-form");
  var button = document.getElementById("login-button");
  var error = document.getElementById("login-error");

  function nextUrl(user) {
    var next = new URLSearchParams(location.search).get("next") || "";
    return next.charAt(0) === "/" && next.charAt(1) !== "/" ? next : homeFor(user);
  }

  function showError(message) {
    error.textContent = message;
    error.hidden = false;
  }

  /* 429 TooManyAttempts: the server says how long to wait (Retry-After, also in the body). */
  function waitSeconds(resp, body) {
    var seconds = parseInt(resp.headers.get("Retry-After") || "", 10);
    if (!(seconds > 0)) { seconds = body.retry_after > 0 ? body.retry_after : 30; }
    return seconds;
  }

  function setBusy(busy) {
    button.disabled = busy;
    button.textContent = busy ? T.logging_in : T.login_button;
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var username = form.username.value.trim();
    var password = form.password.value;
    if (!username || !password) { showError(T.login_failed); return; }
    error.hidden = true;
    setBusy(true);
    fetch("/api/auth/login", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ username: username, password: password })
    }).then(function (resp) {
      return resp.json().catch(function () { return {}; }).then(function (body) {
        if (resp.status === 429) { throw new Error(fmt("login_too_many", { seconds: waitSeconds(resp, body) })); }
        if (!resp.ok) { throw new Error(resp.status === 401 ? T.login_failed : (body.detail || T.network_error)); }
        Auth.store(body);
        var target = nextUrl(body.user);
        location.href = body.user && body.user.must_change_password
          ? "/password?next=" + encodeURIComponent(target) : target;
      });
    }).catch(function (err) {
      setBusy(false);
      showError(err instanceof TypeError ? T.network_error : err.message);
      form.password.focus();
    });
  });

  if (new URLSearchParams(location.search).get("next")) { showError(T.session_expired); }
  form.username.focus();
})();
