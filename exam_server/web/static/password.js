/* Choose a new password (POST /api/auth/password): every other session of the account ends and
   the answer is a fresh sign-in; then on to ?next= or the role's landing page. */
"use strict";

(function () {
  var form = document.getElementById("password-form");
  var error = document.getElementById("password-error");
  var button = document.getElementById("password-button");
  if (!Auth.load()) { goToLogin(); return; }

  function showError(message) {
    error.textContent = message;
    error.hidden = false;
  }

  function nextUrl(user) {
    var next = new URLSearchParams(location.search).get("next") || "";
    return next.charAt(0) === "/" && next.charAt(1) !== "/" && next.indexOf("/password") !== 0 ? next : homeFor(user);
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    error.hidden = true;
    if (form.fresh.value.length < 8) { showError(T.password_too_short); return; }
    if (form.fresh.value !== form.repeat.value) { showError(T.password_mismatch); return; }
    if (form.fresh.value === form.current.value) { showError(T.password_same); return; }
    button.disabled = true;
    api("POST", "/api/auth/password", { current_password: form.current.value, new_password: form.fresh.value })
      .then(function (result) {
        button.disabled = false;
        if (!result.ok) { showError(result.data && result.data.detail || T.request_failed); return; }
        Auth.store(result.data);
        location.href = nextUrl(result.data.user);
      }).catch(function (err) {
        button.disabled = false;
        if (err instanceof AuthError) { goToLogin(); return; }
        showError(T.network_error);
      });
  });
  form.current.focus();
})();
