// The board's side panel: the last notices, the jobs awarded to the organization, its own bids and
// where they stand, and the saved areas that decide which jobs the feed brings (with the form that
// saves one: the API checks it, and its reasons are shown next to the fields).
import { html, useEffect, useState } from "../vendor/htm-3.1.1/standalone.module.js";
import { Field, FormError, Select, t, useForm } from "../console/ui.js";
import { Confirm, WonCard } from "./cards.js";
import { cargoKindName, label, money, standingWord, vehicleName } from "./format.js";

const i18n = window.DispatchI18n;
const VEHICLE_TYPES = ["flatbed", "curtainsider", "box", "refrigerated", "tanker", "bulk_tipper", "silo", "container", "lowloader"];

export function Notices({ notices }) {
  return html`<section id="notices-box" aria-label=${t("jobs.notices")}>
    <ol id="notices" class="notices" aria-live="polite">
      ${notices.map(({ at, text, kind }) => html`<li key=${at.getTime() + text()} class=${kind || ""}>
        <time>${i18n.time(at)}</time> ${text()}</li>`)}
    </ol>
  </section>`;
}

export function Won({ market }) {
  const jobs = [...market.won.values()].sort((a, b) => Date.parse(b.awarded_at || 0) - Date.parse(a.awarded_at || 0));
  const canPlan = market.me.permissions.includes("loads.dispatch");
  return html`<section id="won-box" aria-labelledby="won-title">
    <h2 id="won-title">${t("jobs.won")}</h2>
    ${!jobs.length && html`<p id="won-empty" class="muted">${t("jobs.won_empty")}</p>`}
    <div id="won">${jobs.map((job) => html`<${WonCard} key=${job.id} job=${job} canPlan=${canPlan}
      focus=${market.focusWon === job.id} />`)}</div>
  </section>`;
}

// The organization's bids: the open auctions first (rank among the active bids), then the closed.
export function MyBids({ market }) {
  const rows = [...market.bids.entries()]
    .map(([jobId, bid]) => ({ jobId, bid, job: market.jobs.get(jobId) || market.bidJobs.get(jobId), open: market.jobs.has(jobId) }))
    .filter((row) => row.job)
    .sort((a, b) => Number(b.open) - Number(a.open) || Date.parse(b.bid.placed_at) - Date.parse(a.bid.placed_at));
  return html`<section id="bids-box" aria-labelledby="bids-title">
    <h2 id="bids-title">${t("jobs.my_bids")}</h2>
    ${rows.length
      ? html`<ul id="my-bids" class="my-bids">${rows.map(({ jobId, bid, job, open }) => html`<li key=${jobId}
          id=${`my-bid-${jobId}`} data-status=${bid.status} class=${bid.status === "active" && bid.rank === 1 ? "lowest" : ""}>
          ${open ? html`<a href=${`#job-${jobId}`}>${label(job)}</a>` : html`<span>${label(job)}</span>`}
          <span class="amount">${money(bid.amount_minor, bid.currency)}</span>
          <span class="standing">${standingWord(bid)}</span></li>`)}</ul>`
      : html`<p class="muted">${t("jobs.no_bids")}</p>`}
  </section>`;
}

function areaText(area) {
  const shape = area.center ? t("jobs.area.circle", {
    radius: i18n.distance(Math.round(area.radius_km) * 1000),
    lat: area.center.lat.toFixed(3),
    lon: area.center.lon.toFixed(3),
  }) : t("jobs.area.polygon");
  const filters = [...area.vehicle_types.map(vehicleName), ...area.cargo_kinds.map(cargoKindName)].join(", ");
  return `${area.name} — ${shape}${filters ? ` (${filters})` : ""}`;
}

// A number as typed: sent as a number when it is one, else as typed, for the API to refuse.
const number = (typed) => (String(typed).trim() !== "" && Number.isFinite(Number(typed)) ? Number(typed) : typed);

function AreaForm({ market }) {
  const [located, setLocated] = useState(null); // a geolocation problem's catalogue key
  const form = useForm({ area_name: "", lat: "", lon: "", radius_km: "50", vehicle_type: "" }, async (values) => {
    const body = {
      name: values.area_name.trim(),
      center: { lat: number(values.lat), lon: number(values.lon) },
      radius_km: number(values.radius_km),
    };
    if (values.vehicle_type) body.vehicle_types = [values.vehicle_type];
    await market.saveArea(body);
  });
  // The API names the fields of its body: `name`, `center` (lat and lon), `radius_km`.
  const fieldError = (name) => form.fieldError(name === "area_name" ? "name" : name === "lat" || name === "lon" ? "center" : name, name);

  function useMyLocation() {
    setLocated(null);
    if (!navigator.geolocation) { setLocated("jobs.area.no_geolocation"); return; }
    navigator.geolocation.getCurrentPosition((position) => {
      form.set("lat")(position.coords.latitude.toFixed(5));
      form.set("lon")(position.coords.longitude.toFixed(5));
      if (!form.values.area_name) form.set("area_name")(t("jobs.area.around_here", { radius: form.values.radius_km }));
    }, () => setLocated("jobs.area.location_unavailable"));
  }

  return html`<form id="area-form" class="area-form" onSubmit=${form.submit} novalidate aria-labelledby="area-form-title">
    <h3 id="area-form-title">${t("jobs.area.add")}</h3>
    <${Field} name="area_name" label=${t("jobs.area.name")} value=${form.values.area_name}
      onInput=${form.set("area_name")} error=${fieldError("area_name")} required />
    <div class="row">
      <${Field} name="lat" type="number" label=${t("jobs.area.lat")} value=${form.values.lat}
        onInput=${form.set("lat")} error=${fieldError("lat")} required />
      <${Field} name="lon" type="number" label=${t("jobs.area.lon")} value=${form.values.lon}
        onInput=${form.set("lon")} error=${fieldError("lon")} required />
    </div>
    <div class="row">
      <${Field} name="radius_km" type="number" label=${t("jobs.area.radius")} value=${form.values.radius_km}
        onInput=${form.set("radius_km")} error=${fieldError("radius_km")} required />
      <${Select} name="vehicle_type" label=${t("jobs.area.vehicle")} value=${form.values.vehicle_type}
        onChange=${form.set("vehicle_type")} blank=${t("jobs.area.any_vehicle")} error=${form.fieldError("vehicle_types", "vehicle_type")}
        options=${VEHICLE_TYPES.map((v) => ({ value: v, label: vehicleName(v) }))} />
    </div>
    <${FormError} error=${form.error} />
    ${located && html`<p class="error" role="alert">${t(located)}</p>`}
    <div class="row buttons">
      <button type="submit" disabled=${form.busy}>${t("jobs.area.save")}</button>
      <button type="button" id="here" onClick=${useMyLocation}>${t("jobs.area.here")}</button>
    </div>
  </form>`;
}

export function Areas({ market }) {
  const none = market.noAreas && !market.areas.length;
  // Nothing to watch yet: the form's first field takes the focus, to save an area at once.
  useEffect(() => { if (none) document.querySelector("#area-form input[name=area_name]").focus(); }, [none]);
  return html`<section id="areas" aria-labelledby="areas-title">
    <h2 id="areas-title">${t("jobs.areas")}</h2>
    ${none && html`<p id="no-areas" class="warning" role="alert">${t("jobs.no_areas")}</p>`}
    <ul id="area-list" class="areas">${market.areas.map((area) => html`<li key=${area.id} data-area-id=${area.id}>
      <span>${areaText(area)}</span>
      <${Confirm} className="remove" label=${t("jobs.area.remove")} confirm=${t("jobs.area.delete")}
        keep=${t("jobs.keep")} onConfirm=${() => market.deleteArea(area)} /></li>`)}</ul>
    <${AreaForm} market=${market} />
  </section>`;
}
