// The carrier dispatcher's fleet screens, on the fleet API (dispatch/fleet/api.py): the vehicles
// (listed, added; the API's field errors next to the field) and the drivers, each of whose phones
// is paired from the driver's row with a one-time code and its QR code
// (dispatch/accounts/README.md "Pairing a phone").
import { html, useState } from "../vendor/htm-3.1.1/standalone.module.js";
import { api } from "./api.js";
import { Confirmed } from "./admin.js";
import { DriverProfile } from "./driver_profile.js";
import { Field, FormError, Status, t, useForm, useLoad } from "./ui.js";

const i18n = window.DispatchI18n;

// The vehicle types the API accepts (dispatch/types.py VehicleType), for the choice's options.
const VEHICLE_TYPES = [
  "flatbed", "curtainsider", "box", "refrigerated", "tanker", "bulk_tipper", "silo", "container", "lowloader",
];
const typeLabel = (type) => t(`console.dispatch.vehicle_type.${type}`);
// A number typed in a form; empty is sent as null so that the API names the field that is missing.
const number = (text) => (String(text).trim() === "" ? null : Number(text));
// A plate refused by the plate rules is about the plate field (the API names `$.plate` too).
const PLATE_CODES = { invalid_plate: "plate", plate_class_not_allowed: "plate", plate_taken: "plate" };

// -- vehicles -------------------------------------------------------------------------------------

export function Vehicles({ me }) {
  const vehicles = useLoad(() => api("GET", "/fleet/vehicles"), [me]);
  const form = useForm({ plate: "", vehicle_type: "", capacity_kg: "", capacity_m3: "" }, async (values) => {
    const body = {
      plate: values.plate,
      vehicle_type: values.vehicle_type,
      capacity_kg: number(values.capacity_kg),
      capacity_m3: number(values.capacity_m3),
    };
    await api("POST", "/fleet/vehicles", body, { fieldOfCode: PLATE_CODES });
    await vehicles.reload();
  });
  const typeError = form.fieldError("vehicle_type");
  return html`<section aria-labelledby="vehicles-title">
    <h2 id="vehicles-title">${t("console.dispatch.nav.vehicles")}</h2>
    <${Status} state=${vehicles} />
    ${vehicles.data && (vehicles.data.length === 0
      ? html`<p id="no-vehicles">${t("console.dispatch.vehicles.none")}</p>`
      : html`<table class="list" id="vehicles">
      <thead><tr><th scope="col">${t("console.dispatch.vehicles.plate")}</th>
        <th scope="col">${t("console.dispatch.vehicles.type")}</th>
        <th scope="col">${t("console.dispatch.vehicles.capacity_kg")}</th>
        <th scope="col">${t("console.dispatch.vehicles.capacity_m3")}</th>
        <th scope="col">${t("console.dispatch.vehicles.state")}</th></tr></thead>
      <tbody>${vehicles.data.map((v) => html`<tr key=${v.id} id=${`vehicle-${v.id}`}>
        <td class="plate">${v.plate}</td><td>${typeLabel(v.vehicle_type)}</td>
        <td>${i18n.weight(v.capacity_kg)}</td><td>${i18n.volume(v.capacity_m3)}</td>
        <td>${t(v.active ? "console.dispatch.vehicles.active" : "console.dispatch.vehicles.inactive")}</td></tr>`)}
      </tbody></table>`)}
    <form class="panel" id="add-vehicle" onSubmit=${form.submit} aria-labelledby="add-vehicle-title" novalidate>
      <h3 id="add-vehicle-title">${t("console.dispatch.vehicles.add")}</h3>
      <${Field} name="plate" label=${t("console.dispatch.vehicles.plate")} value=${form.values.plate}
        onInput=${form.set("plate")} error=${form.fieldError("plate")} required autocomplete="off" />
      <div class="field">
        <label for="vehicle-type">${t("console.dispatch.vehicles.type")}</label>
        <select id="vehicle-type" name="vehicle_type" value=${form.values.vehicle_type} required
          aria-invalid=${typeError ? "true" : "false"} aria-describedby=${typeError ? "vehicle-type-error" : undefined}
          onChange=${(e) => form.set("vehicle_type")(e.currentTarget.value)}>
          <option value="">${t("console.dispatch.vehicles.choose_type")}</option>
          ${VEHICLE_TYPES.map((type) => html`<option key=${type} value=${type}>${typeLabel(type)}</option>`)}
        </select>
        ${typeError && html`<p class="field-error error" id="vehicle-type-error" data-field="vehicle_type">${typeError}</p>`}
      </div>
      <${Field} name="capacity_kg" type="number" label=${t("console.dispatch.vehicles.capacity_kg")}
        value=${form.values.capacity_kg} onInput=${form.set("capacity_kg")} error=${form.fieldError("capacity_kg")} required />
      <${Field} name="capacity_m3" type="number" label=${t("console.dispatch.vehicles.capacity_m3")}
        value=${form.values.capacity_m3} onInput=${form.set("capacity_m3")} error=${form.fieldError("capacity_m3")} required />
      <${FormError} error=${form.error} />
      <button type="submit" disabled=${form.busy}>${t("console.dispatch.vehicles.add_submit")}</button>
    </form>
  </section>`;
}

// -- drivers and pairing their phones -------------------------------------------------------------

// The QR code as an image: the SVG is the server's, but it goes in as a data: URL of an <img>, which
// runs no script and adds nothing to the page's document, never as markup.
const svgImage = (svg) => `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;

// A driver's pairing: make a code (shown this once, big, with its expiry and QR code), list the
// driver's open codes and withdraw one.
function PairPhone({ driver, onClose }) {
  const path = `/fleet/drivers/${driver.user_id}/pairings`;
  const open = useLoad(() => api("GET", path), [path]);
  const [made, setMade] = useState(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  async function create() {
    setBusy(true);
    try {
      const answer = await api("POST", path);
      await open.reload();
      setMade(answer);
      setError(null);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }
  async function withdraw(pairing) {
    await api("DELETE", `${path}/${pairing.id}`);
    if (made && made.id === pairing.id) setMade(null);
    await open.reload();
  }
  return html`<section class="panel" id="pairing" aria-labelledby="pairing-title">
    <h3 id="pairing-title">${t("console.dispatch.pair.title", { name: driver.name })}</h3>
    <p class="muted">${t("console.dispatch.pair.how")}</p>
    <${FormError} error=${error} />
    ${made && html`<div class="pair-made" role="status">
      <p class="pair-label">${t("console.dispatch.pair.code")}</p>
      <p class="pair-code" id="pairing-code">${made.code}</p>
      <p id="pairing-expires">${t("console.dispatch.pair.expires", { time: i18n.time(made.expires_at) })}</p>
      <figure class="qr" id="pairing-qr-box">
        <img id="pairing-qr" src=${svgImage(made.qr_svg)} width="240" height="240"
          alt=${t("console.dispatch.pair.qr_alt", { code: made.code })} />
        <figcaption class="muted">${t("console.dispatch.pair.qr_caption")}</figcaption>
      </figure>
    </div>`}
    <p><button type="button" id="make-pairing" onClick=${create} disabled=${busy}>
      ${t(made ? "console.dispatch.pair.make_another" : "console.dispatch.pair.make")}</button>
      <button type="button" id="close-pairing" onClick=${onClose}>${t("console.dispatch.pair.close")}</button></p>
    <h4>${t("console.dispatch.pair.open_codes")}</h4>
    <${Status} state=${open} />
    ${open.data && (open.data.length === 0
      ? html`<p id="no-pairings">${t("console.dispatch.pair.none_open")}</p>`
      : html`<table class="list" id="pairings">
      <thead><tr><th scope="col">${t("console.dispatch.pair.created")}</th>
        <th scope="col">${t("console.dispatch.pair.valid_until")}</th>
        <th scope="col">${t("console.actions")}</th></tr></thead>
      <tbody>${open.data.map((p) => html`<tr key=${p.id} id=${`pairing-${p.id}`}>
        <td>${i18n.dateTime(p.created_at)}</td><td>${i18n.dateTime(p.expires_at)}</td>
        <td class="actions"><${Confirmed} label=${t("console.dispatch.pair.withdraw")}
          confirmLabel=${t("console.dispatch.pair.withdraw_confirm")} onConfirm=${() => withdraw(p)} /></td></tr>`)}
      </tbody></table>`)}
  </section>`;
}

export function Drivers({ me }) {
  const drivers = useLoad(() => api("GET", "/fleet/drivers"), [me]);
  const [pairing, setPairing] = useState(null); // the driver whose phone is being paired
  const [profile, setProfile] = useState(null); // the driver whose profile is being edited
  return html`<section aria-labelledby="drivers-title">
    <h2 id="drivers-title">${t("console.dispatch.nav.drivers")}</h2>
    <${Status} state=${drivers} />
    ${drivers.data && (drivers.data.length === 0
      ? html`<p id="no-drivers">${t("console.dispatch.drivers.none")}</p>`
      : html`<table class="list" id="drivers">
      <thead><tr><th scope="col">${t("console.dispatch.drivers.name")}</th>
        <th scope="col">${t("console.dispatch.drivers.email")}</th>
        <th scope="col">${t("console.dispatch.drivers.phone")}</th>
        <th scope="col">${t("console.dispatch.drivers.licence")}</th>
        <th scope="col">${t("console.actions")}</th></tr></thead>
      <tbody>${drivers.data.map((d) => html`<tr key=${d.user_id} id=${`driver-${d.user_id}`}>
        <td>${d.name}</td><td>${d.email}</td><td>${d.phone || "—"}</td><td>${d.licence_number || "—"}</td>
        <td class="actions"><button type="button" onClick=${() => setPairing(d)}
          aria-label=${t("console.dispatch.drivers.pair_named", { name: d.name })}>
          ${t("console.dispatch.drivers.pair")}</button>
          <button type="button" onClick=${() => setProfile(d)}
            aria-label=${t("plan.profile.edit_named", { name: d.name })}>${t("plan.profile.edit")}</button></td></tr>`)}
      </tbody></table>`)}
    ${profile && html`<${DriverProfile} key=${profile.user_id} driver=${profile}
      onSaved=${async () => { await drivers.reload(); setProfile(null); }} onClose=${() => setProfile(null)} />`}
    ${pairing && html`<${PairPhone} key=${pairing.user_id} driver=${pairing} onClose=${() => setPairing(null)} />`}
  </section>`;
}
