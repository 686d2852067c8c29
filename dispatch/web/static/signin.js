// The sign-in the pages share (gate board, tracking page, job board). Each page keeps its own
// storage key and decides what comes after signing in; this file holds what has to work the same on
// every page: a bearer token from the URL fragment, and the login form's exchange with POST /auth/login.
//
// A classic script that a page includes before its own script. Everything sits in a function so that
// no names leak out: classic scripts share one global scope, so a top-level `const $` here would
// clash with the page's own. Only window.DispatchSignin is defined.
//
// The login form has the same markup on every page: inputs named email and password, an optional
// hidden <select name="organization">, and <p id="login-error">.
"use strict";

window.DispatchSignin = (() => {
  // A #token=... from the URL fragment (the server never sees a fragment), stored under `key` in
  // sessionStorage and removed from the address bar so that a copied or bookmarked URL does not carry
  // it. Returns the stored token (this one, or one from earlier in this tab), or null.
  function tokenFromFragment(key) {
    const fromHash = new URLSearchParams(location.hash.slice(1)).get("token");
    if (fromHash) {
      sessionStorage.setItem(key, fromHash);
      history.replaceState(null, "", location.pathname + location.search);
    }
    return sessionStorage.getItem(key);
  }

  // Show the login form with `message` (or none). On success the token is stored under `tokenKey`,
  // the form is hidden and onSignedIn(token) is called. A user in several organizations is refused
  // with code "organization_required" and their organization ids: the form then shows the
  // organization select, and the next submit sends the chosen one. A page without that select shows
  // the server's message instead.
  function showLoginForm(form, { message, tokenKey, onSignedIn }) {
    const error = document.getElementById("login-error");
    const select = form.elements.namedItem("organization");
    form.hidden = false;
    error.textContent = message || "";
    // onsubmit, not addEventListener: a page shows the form again when its session ends, and only the
    // latest handler may run.
    form.onsubmit = async (event) => {
      event.preventDefault();
      const body = { email: form.email.value, password: form.password.value };
      if (select && !select.hidden && select.value) body.organization_id = select.value;
      let answer, data;
      try {
        answer = await fetch("/auth/login", { method: "POST", headers: { "content-type": "application/json" },
                                              body: JSON.stringify(body) });
        data = await answer.json();
      } catch (err) {
        error.textContent = "The server cannot be reached; try again.";
        return;
      }
      if (!answer.ok) {
        if (select && data.code === "organization_required" && Array.isArray(data.organization_ids)) {
          select.replaceChildren(...data.organization_ids.map((id) => new Option(`organization ${id}`, id)));
          select.hidden = false;
          error.textContent = "You belong to several organizations: choose the one to act for.";
        } else {
          error.textContent = data.detail || "Sign-in failed.";
        }
        return;
      }
      sessionStorage.setItem(tokenKey, data.access_token);
      form.hidden = true;
      onSignedIn(data.access_token);
    };
  }

  return { tokenFromFragment, showLoginForm };
})();
