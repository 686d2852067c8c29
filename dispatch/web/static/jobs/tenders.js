// "Tenders for you": the jobs offered to the organization now, each at its price with the time left
// to answer (dispatch/market/README.md "Tenders"). Accept takes the job at once, as a grab does;
// decline asks for a reason. Only the carrier a tender is offered to sees it: the feed tells this
// page alone (`tender.offered`, `tender.ended`), and it reads the offers again from GET /tenders.
import { html, useState } from "../vendor/htm-3.1.1/standalone.module.js";
import { Field, FormError, t, useForm } from "../console/ui.js";
import { label, money, placeName } from "./format.js";
import { problemText } from "./market.js";

const i18n = window.DispatchI18n;

function left(offer, now) {
  const s = Math.max(0, Math.round((Date.parse(offer.expires_at) - now) / 1000));
  return t("jobs.tender.left", { minutes: Math.floor(s / 60), seconds: String(s % 60).padStart(2, "0") });
}

function Offer({ offer, market, now }) {
  const [declining, setDeclining] = useState(false);
  const [error, setError] = useState(null);
  const job = offer.job || { id: offer.job_id };
  const form = useForm({ reason: "" }, (v) => market.declineTender(offer, v.reason));
  async function accept() {
    try { await market.acceptTender(offer); } catch (err) { setError(problemText(err, "jobs.tender.refused")); }
  }
  const name = label(job);
  return html`<li class="tender" id=${`tender-${offer.id}`} aria-labelledby=${`tender-title-${offer.id}`}>
    <h3 id=${`tender-title-${offer.id}`}>${name}</h3>
    ${offer.job && html`<p>${placeName(offer.job.origin)} → ${placeName(offer.job.destination)} ·
      ${i18n.weight(offer.job.total_weight_kg)} · ${i18n.dateTime(offer.job.pickup_from)}</p>`}
    <p><strong class="amount">${money(offer.price_minor, offer.currency)}</strong>
      · <span class="left">${left(offer, now)}</span></p>
    <p><button type="button" class="accept" onClick=${accept}>${t("jobs.tender.accept", { job: name })}</button>
      ${!declining && html`<button type="button" class="decline" onClick=${() => setDeclining(true)}>
        ${t("jobs.tender.decline", { job: name })}</button>`}</p>
    ${declining && html`<form class="decline-form" novalidate onSubmit=${form.submit}
      onKeyDown=${(e) => e.key === "Escape" && setDeclining(false)}>
      <${Field} name=${`reason-${offer.id}`} label=${t("jobs.tender.reason")} value=${form.values.reason}
        onInput=${form.set("reason")} error=${form.fieldError("reason")} autocomplete="off" />
      <${FormError} error=${form.error && !form.fieldError("reason") ? form.error : null} />
      <button type="submit" disabled=${form.busy}>${t("jobs.tender.decline_confirm")}</button>
      <button type="button" onClick=${() => setDeclining(false)}>${t("console.keep")}</button></form>`}
    ${error && html`<p class="error" role="alert">${error}</p>`}
  </li>`;
}

export function Tenders({ market, now }) {
  const offers = [...market.tenders.values()].sort((a, b) => Date.parse(a.expires_at) - Date.parse(b.expires_at));
  return html`<section id="tenders-box" aria-labelledby="tenders-title">
    <h2 id="tenders-title">${t("jobs.tender.title")}</h2>
    ${offers.length
      ? html`<ul id="tenders" class="tenders">${offers.map((o) => html`<${Offer} key=${o.id} offer=${o} market=${market} now=${now} />`)}</ul>`
      : html`<p id="tenders-empty" class="muted">${t("jobs.tender.none")}</p>`}
  </section>`;
}
