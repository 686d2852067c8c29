// A driver's fleet profile (phone, licence number), set from the driver's row of the fleet screen
// with PUT /fleet/drivers/{user}/profile: a driver needs one before a load can be assigned to them.
import { html } from "../vendor/htm-3.1.1/standalone.module.js";
import { api } from "./api.js";
import { Field, FormError, t, useForm } from "./ui.js";

export function DriverProfile({ driver, onSaved, onClose }) {
  const form = useForm({ phone: driver.phone || "", licence_number: driver.licence_number || "" }, async (values) => {
    await api("PUT", `/fleet/drivers/${driver.user_id}/profile`, values);
    await onSaved();
  });
  return html`<form class="panel" id="driver-profile" onSubmit=${form.submit} novalidate aria-labelledby="driver-profile-title">
    <h3 id="driver-profile-title">${t("plan.profile.title", { name: driver.name })}</h3>
    <${Field} name="phone" type="tel" label=${t("plan.profile.phone")} value=${form.values.phone}
      onInput=${form.set("phone")} error=${form.fieldError("phone")} autocomplete="off" />
    <${Field} name="licence_number" label=${t("plan.profile.licence")} value=${form.values.licence_number}
      onInput=${form.set("licence_number")} error=${form.fieldError("licence_number")} autocomplete="off" />
    <${FormError} error=${form.error} />
    <p><button type="submit" disabled=${form.busy}>${t("plan.profile.save")}</button>
      <button type="button" onClick=${onClose}>${t("plan.profile.close")}</button></p>
  </form>`;
}
