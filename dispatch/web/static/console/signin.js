// The sign-in form, the same on the front door and in the console: POST /auth/login; a person in
// several organizations is asked which one (the API answers `organization_required` with the ids).
import { html, useState } from "../vendor/htm-3.1.1/standalone.module.js";
import { api, session } from "./api.js";
import { Field, FormError, t } from "./ui.js";

export function SignIn({ onSignedIn }) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [organizations, setOrganizations] = useState(null);
  const [organization, setOrganization] = useState("");
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);

  async function submit(event) {
    event.preventDefault();
    setBusy(true);
    const body = { email, password };
    if (organizations && organization) body.organization_id = organization;
    try {
      const answer = await api("POST", "/auth/login", body, { token: null });
      session.set(answer.access_token);
      setError(null);
      onSignedIn(answer.access_token);
    } catch (err) {
      if (err.code === "organization_required" && Array.isArray(err.problem.organization_ids)) {
        setOrganizations(err.problem.organization_ids);
        setOrganization(err.problem.organization_ids[0]);
        setError(null);
      } else {
        setError(err);
      }
    } finally {
      setBusy(false);
    }
  }

  const fieldError = (name) => (error ? error.fields[name] : undefined);
  return html`<form class="signin panel" id="signin" onSubmit=${submit} aria-labelledby="signin-title">
    <h2 id="signin-title">${t("console.signin.title")}</h2>
    <${Field} name="email" type="email" label=${t("console.signin.email")} value=${email}
      onInput=${setEmail} error=${fieldError("email")} required autocomplete="username" />
    <${Field} name="password" type="password" label=${t("console.signin.password")} value=${password}
      onInput=${setPassword} error=${fieldError("password")} required autocomplete="current-password" />
    ${organizations && html`<div class="field">
      <label for="signin-organization">${t("common.signin.choose_organization")}</label>
      <select id="signin-organization" name="organization" value=${organization}
        onChange=${(e) => setOrganization(e.currentTarget.value)}>
        ${organizations.map((id) => html`<option key=${id} value=${id}>${t("common.signin.organization", { id })}</option>`)}
      </select></div>`}
    <${FormError} error=${error} />
    <button type="submit" disabled=${busy}>${t("console.signin.submit")}</button>
  </form>`;
}

// The language switch: a native select (keyboard-usable), the same choice as on the other pages.
export function LanguageSwitcher() {
  const i18n = window.DispatchI18n;
  return html`<select class="language" aria-label=${t("common.language")} value=${i18n.locale}
    onChange=${(e) => i18n.switchTo(e.currentTarget.value)}>
    ${i18n.LOCALES.map((l) => html`<option key=${l} value=${l}>${t(`common.language.${l}`)}</option>`)}
  </select>`;
}
