// The sign-in form, the same on the front door and in the console: POST /auth/login; a person in
// several organizations is asked which one (the API answers `organization_required` with the ids).
import { html, useState } from "../vendor/htm-3.1.1/standalone.module.js";
import { api, session } from "./api.js";
import { Field, FormError, t } from "./ui.js";

// What every sign-in form does (the console's, the tracking page's): POST /auth/login with the
// typed email and password; a person in several organizations is asked which one (the API answers
// `organization_required` with the ids) and signs in again with the choice. `onToken` gets the
// session's token; each form keeps its own markup (ids its tests and scripts rely on).
export function useSignIn(onToken) {
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
      setError(null);
      onToken(answer.access_token);
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
  return { email, setEmail, password, setPassword, organizations, organization, setOrganization, error, busy, submit };
}

// The choice of organization, shown once the API asked for one; `id` is the select's element id.
export function OrganizationChoice({ id, form }) {
  if (!form.organizations) return null;
  return html`<div class="field">
    <label for=${id}>${t("common.signin.choose_organization")}</label>
    <select id=${id} name="organization" value=${form.organization}
      onChange=${(e) => form.setOrganization(e.currentTarget.value)}>
      ${form.organizations.map((o) => html`<option key=${o} value=${o}>${t("common.signin.organization", { id: o })}</option>`)}
    </select></div>`;
}

export function SignIn({ onSignedIn }) {
  const form = useSignIn((token) => {
    session.set(token);
    onSignedIn(token);
  });
  const { email, setEmail, password, setPassword, error, busy, submit } = form;

  const fieldError = (name) => (error ? error.fields[name] : undefined);
  return html`<form class="signin panel" id="signin" onSubmit=${submit} aria-labelledby="signin-title">
    <h2 id="signin-title">${t("console.signin.title")}</h2>
    <${Field} name="email" type="email" label=${t("console.signin.email")} value=${email}
      onInput=${setEmail} error=${fieldError("email")} required autocomplete="username" />
    <${Field} name="password" type="password" label=${t("console.signin.password")} value=${password}
      onInput=${setPassword} error=${fieldError("password")} required autocomplete="current-password" />
    <${OrganizationChoice} id="signin-organization" form=${form} />
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
