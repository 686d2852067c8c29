// The signed-in person's own account (#/account), open to everyone who signs in: change the
// password (POST /me/password). The current password is checked by the API under the login
// throttle; the new one is typed twice (the repeat is compared here, never sent) and must pass the
// API's password policy, whose reason shows next to the field. On success the person's other
// sessions are signed out, this one stays. The language is chosen in the header's switcher.
import { html, useState } from "../vendor/htm-3.1.1/standalone.module.js";
import { ApiError, api } from "./api.js";
import { Field, FormError, t, useForm } from "./ui.js";

// Refusals without `errors[]` that concern one field of the form.
const FIELD_OF_CODE = { current_password_wrong: "current_password", password_too_weak: "new_password" };

export function Account({ me }) {
  const [changed, setChanged] = useState(null); // the answer of the last change, for the notice
  const form = useForm({ current_password: "", new_password: "", repeat_password: "" }, async (values) => {
    setChanged(null);
    if (values.new_password !== values.repeat_password) {
      const mismatch = t("console.account.repeat_mismatch");
      throw Object.assign(new ApiError(422, { detail: mismatch }), { fields: { repeat_password: mismatch } });
    }
    const body = { current_password: values.current_password, new_password: values.new_password };
    setChanged(await api("POST", "/me/password", body, { fieldOfCode: FIELD_OF_CODE }));
  });
  return html`<section aria-labelledby="account-title">
    <h2 id="account-title">${t("console.account.title")}</h2>
    <p>${me.name ? `${me.name} · ` : ""}${me.email}</p>
    <form class="panel" id="change-password" onSubmit=${form.submit} aria-labelledby="change-password-title" novalidate>
      <h3 id="change-password-title">${t("console.account.change_password")}</h3>
      <${Field} name="current_password" type="password" label=${t("console.account.current_password")}
        value=${form.values.current_password} onInput=${form.set("current_password")}
        error=${form.fieldError("current_password")} required autocomplete="current-password" />
      <${Field} name="new_password" type="password" label=${t("console.account.new_password")}
        value=${form.values.new_password} onInput=${form.set("new_password")}
        error=${form.fieldError("new_password")} required autocomplete="new-password" />
      <${Field} name="repeat_password" type="password" label=${t("console.account.repeat_password")}
        value=${form.values.repeat_password} onInput=${form.set("repeat_password")}
        error=${form.fieldError("repeat_password")} required autocomplete="new-password" />
      <${FormError} error=${form.error} />
      ${changed && html`<p role="status" id="password-changed">
        ${t("console.account.changed", { count: changed.other_sessions_ended })}</p>`}
      <button type="submit" disabled=${form.busy}>${t("console.account.change_submit")}</button>
    </form>
  </section>`;
}
