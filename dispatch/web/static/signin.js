// The gate board's sign-in (the other pages use the console's form and session). The page keeps the
// token under the console's session key and decides what comes after signing in; this file holds
// the rest: a bearer token from the URL fragment, and the login form's exchange with POST /auth/login.
//
// A classic script that a page includes before its own script. Everything sits in a function so that
// no names leak out: classic scripts share one global scope, so a top-level `const $` here would
// clash with the page's own. Only window.DispatchSignin is defined.
//
// The login form has the same markup on every page: inputs named email and password, an optional
// hidden <select name="organization">, and <p id="login-error">.
//
// Its texts come from the catalogue (i18n.js, included before this script): a message from the
// catalogue is kept as its key on the element (data-i18n), so switching language re-translates it;
// a problem's detail from the server is shown as the server wrote it (in the language the request
// asked for with Accept-Language).
"use strict";

window.DispatchSignin = (() => {
  const i18n = window.DispatchI18n;
  const forms = new Set(); // the login forms shown, for relabelling their organization choices

  // A catalogue text in `el`, kept as its key so that a language switch re-translates it.
  function say(el, key) {
    el.dataset.i18n = key;
    el.textContent = i18n.t(key);
  }

  // Text that is not in the catalogue (a problem's detail): shown as it is.
  function sayPlain(el, text) {
    delete el.dataset.i18n;
    el.textContent = text;
  }

  function labelOrganizations(form) {
    const select = form.elements.namedItem("organization");
    if (!select) return;
    for (const option of select.options) option.textContent = i18n.t("common.signin.organization", { id: option.value });
  }
  i18n.onChange(() => { for (const form of forms) labelOrganizations(form); });

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

  // Show the login form with the catalogue text `messageKey` (or none). On success the token is
  // stored under `tokenKey`, the form is hidden and onSignedIn(token) is called. A user in several
  // organizations is refused with code "organization_required" and their organization ids: the form
  // then shows the organization select, and the next submit sends the chosen one. A page without
  // that select shows the server's message instead.
  function showLoginForm(form, { messageKey, tokenKey, onSignedIn }) {
    const error = document.getElementById("login-error");
    const select = form.elements.namedItem("organization");
    forms.add(form);
    form.hidden = false;
    if (messageKey) say(error, messageKey); else sayPlain(error, "");
    // onsubmit, not addEventListener: a page shows the form again when its session ends, and only the
    // latest handler may run.
    form.onsubmit = async (event) => {
      event.preventDefault();
      const body = { email: form.email.value, password: form.password.value };
      if (select && !select.hidden && select.value) body.organization_id = select.value;
      let answer, data;
      try {
        answer = await fetch("/auth/login", { method: "POST", headers: {
          "content-type": "application/json", "accept-language": i18n.locale,
        }, body: JSON.stringify(body) });
        data = await answer.json();
      } catch (err) {
        say(error, "common.signin.unreachable");
        return;
      }
      if (!answer.ok) {
        if (select && data.code === "organization_required" && Array.isArray(data.organization_ids)) {
          select.replaceChildren(...data.organization_ids.map((id) => new Option("", id)));
          labelOrganizations(form);
          select.hidden = false;
          say(error, "common.signin.choose_organization");
        } else if (data.detail) {
          sayPlain(error, data.detail);
        } else {
          say(error, "common.signin.failed");
        }
        return;
      }
      sessionStorage.setItem(tokenKey, data.access_token);
      form.hidden = true;
      onSignedIn(data.access_token);
    };
  }

  // How a signed-in page saves a language switch as the user's own setting: PATCH /me with its
  // token. A server without that route (404/405) is no error: the choice stays on the device.
  function localeSaver(token) {
    return async (locale) => {
      const answer = await fetch("/me", {
        method: "PATCH",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ locale }),
      });
      if (!answer.ok && answer.status !== 404 && answer.status !== 405) {
        throw new Error(`PATCH /me: HTTP ${answer.status}`);
      }
    };
  }

  // After signing in: the user's language setting (GET /me) decides the page's language, and a switch
  // is saved to it. Returns the GET /me answer, or null when it could not be read (the page keeps
  // the language it has: the device's or the browser's).
  async function useUserLanguage(token) {
    let me;
    try {
      const answer = await fetch("/me", { headers: { authorization: `Bearer ${token}` } });
      if (!answer.ok) return null;
      me = await answer.json();
    } catch (err) {
      return null;
    }
    await i18n.signedIn(me, localeSaver(token));
    return me;
  }

  return { tokenFromFragment, showLoginForm, localeSaver, useUserLanguage };
})();
