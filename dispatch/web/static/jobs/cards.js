// A job's card on the board: what, where, when, and the carrier's move on it: grab at the posted
// price, or bid (and lower one's bid, or withdraw it) in a reverse auction. The card keeps its own
// message: the outcome of the last move, or the API's reason for refusing it, beside the button or
// the amount it is about. The markup's ids and classes are what the page tests read.
import { html, useLayoutEffect, useRef, useState } from "../vendor/htm-3.1.1/standalone.module.js";
import { t } from "../console/ui.js";
import {
  addressLine, cargoText, countdown, digits, label, money, placeName, standing, toMinor, vehicleName,
  when, windowText,
} from "./format.js";
import { problemText } from "./market.js";

// A destructive action asks once more in place: the second button does it, "Keep" or Escape keeps.
// The focus follows (layout effects: before the next key press can land elsewhere): to the second
// button when it shows, back to the first when kept.
export function Confirm({ label: text, confirm, keep, onConfirm, className = "", disabled = false }) {
  const [asking, setAsking] = useState(false);
  const [kept, setKept] = useState(false);
  const first = useRef(null);
  const yes = useRef(null);
  useLayoutEffect(() => {
    if (asking && yes.current) yes.current.focus();
    if (!asking && kept && first.current) first.current.focus();
  }, [asking, kept]);
  const ask = () => { setKept(false); setAsking(true); };
  const stay = () => { setKept(true); setAsking(false); };
  if (!asking) {
    return html`<button type="button" class=${className} ref=${first} disabled=${disabled} onClick=${ask}>${text}</button>`;
  }
  return html`<span class="confirm" onKeyDown=${(e) => { if (e.key === "Escape") stay(); }}>
    <button type="button" class="danger" ref=${yes} onClick=${() => { setAsking(false); onConfirm(); }}>${confirm}</button>
    <button type="button" onClick=${stay}>${keep}</button>
  </span>`;
}

// The time left is read from the clock itself, not from the page's once-a-second `now` (which only
// makes the cards draw again): a card may be drawn between two ticks (a job that has just arrived).
function Facts({ job }) {
  return html`<dl class="facts">
    <dt>${t("jobs.fact.cargo")}</dt><dd class="cargo">${cargoText(job)}</dd>
    <dt>${t("jobs.fact.vehicle")}</dt><dd class="vehicle">${vehicleName(job.vehicle_type)}</dd>
    <dt>${t("jobs.fact.pickup")}</dt><dd class="pickup">${windowText(job.pickup_from, job.pickup_until)}</dd>
    <dt>${t("jobs.fact.deliver_by")}</dt><dd class="deliver-by">${when(job.deliver_by)}</dd>
    <dt class="deadline-label">${t(job.mode === "auction" ? "jobs.fact.bids_close" : "jobs.fact.offer_ends")}</dt>
    <dd class="deadline"><span class="countdown" data-deadline=${job.deadline} title=${when(job.deadline)}>${countdown(job.deadline, Date.now())}</span></dd>
  </dl>`;
}

// The card's message: {text: a function that builds it, kind: "ok" | "error" | "", hint}.
function Message({ id, message }) {
  const kind = message && message.kind ? ` ${message.kind}` : "";
  return html`<p class=${`message${kind}`} id=${id} role="status" data-seq=${message ? message.seq : 0}>${message
    ? [message.text(), message.hint ? ` ${message.hint()}` : ""].join("") : ""}</p>`;
}

// What the API's refusal of a bid tells beyond its words: the ceiling, or the most one may offer now.
function bidHint(err) {
  const problem = err.problem || {};
  if (err.code === "above_ceiling" && typeof problem.ceiling_minor === "number") {
    return (job) => t("jobs.bid_hint.ceiling", { amount: money(problem.ceiling_minor, job.currency) });
  }
  if (err.code === "step_too_small" && typeof problem.max_amount_minor === "number") {
    return (job) => t("jobs.bid_hint.at_most", { amount: money(problem.max_amount_minor, job.currency) });
  }
  return null;
}

function GrabActions({ job, market, closed, say }) {
  const [busy, setBusy] = useState(false);
  const [out, setOut] = useState(false); // taken by another carrier, or closed: no retry
  async function grab() {
    setBusy(true);
    say({ text: () => t("jobs.grabbing"), kind: "" });
    try {
      await market.grab(job.id); // the card leaves the board; the job joins the awarded list
    } catch (err) {
      if (err.status === 401) return;
      const text = problemText(err, "jobs.grab_failed");
      say({ text: () => text, kind: "error", taken: err.code === "job_taken" });
      market.notice(() => t("jobs.notice", { job: label(job), text }), "error");
      // Taken or closed: the feed's job.removed takes it from the board; anything else may be retried.
      if (err.status === 409 || err.status === 404) setOut(true);
      setBusy(false);
    }
  }
  return html`<div class="actions grab-actions">
    <button type="button" class="grab" disabled=${busy || out || closed} aria-describedby=${`message-${job.id}`}
      onClick=${grab}>${t("jobs.grab", { amount: money(job.price_minor, job.currency) })}</button>
  </div>`;
}

function AuctionActions({ job, own, market, closed, say, message }) {
  const [amount, setAmount] = useState("");
  const [busy, setBusy] = useState(false);
  const active = own && own.status === "active";
  const inputId = `amount-${job.id}`;
  const step = String(1 / 10 ** digits(job.currency));

  async function bid(event) {
    event.preventDefault();
    const minor = toMinor(amount, job.currency);
    if (!minor) { say({ text: () => t("jobs.bid_above_zero"), kind: "error", field: true }); return; }
    setBusy(true);
    say({ text: () => t("jobs.bid_sending"), kind: "" });
    try {
      const placed = await market.bid(job.id, minor);
      setAmount("");
      say({ text: () => t("jobs.bid_placed", { amount: money(placed.amount_minor, placed.currency) }), kind: "ok" });
    } catch (err) {
      if (err.status === 401) return;
      const text = problemText(err, "jobs.bid_refused");
      const hint = bidHint(err);
      say({ text: () => text, hint: hint && (() => hint(job)), kind: "error", field: true });
    } finally {
      setBusy(false);
    }
  }

  async function withdraw() {
    setBusy(true);
    try {
      await market.withdraw(job.id);
      say({ text: () => t("jobs.bid_withdrawn"), kind: "ok" });
    } catch (err) {
      if (err.status !== 401) {
        const text = problemText(err, "jobs.bid_refused");
        say({ text: () => text, kind: "error" });
      }
    } finally {
      setBusy(false);
    }
  }

  const invalid = Boolean(message && message.field && message.kind === "error");
  return html`<div class="actions auction-actions">
    <p class="auction-facts"><span class="bid-count">${t("jobs.bid_count", { count: job.bid_count })}</span>${" "}
      <span class="ceiling">${job.ceiling_minor ? t("jobs.ceiling", { amount: money(job.ceiling_minor, job.currency) }) : ""}</span></p>
    ${own && html`<div class="own-bid-row">
      <p class=${`own-bid${own.status === "active" && own.rank === 1 ? " lowest" : ""}`}>
        ${t("jobs.own_bid", { amount: money(own.amount_minor, own.currency), rank: standing(own) })}</p>
      ${active && html`<${Confirm} className="withdraw" disabled=${busy || closed} label=${t("jobs.withdraw")}
        confirm=${t("jobs.withdraw_confirm")} keep=${t("jobs.keep")} onConfirm=${withdraw} />`}
    </div>`}
    <form class="bid-form" onSubmit=${bid} novalidate>
      <label for=${inputId}>${t("jobs.your_price_in", { currency: job.currency })}</label>
      <input id=${inputId} name="amount" type="number" inputmode="decimal" step=${step} min=${step}
        placeholder=${active ? t("jobs.lower_below", { amount: money(own.amount_minor - job.min_step_minor, own.currency) }) : t("jobs.your_price")}
        value=${amount} onInput=${(e) => setAmount(e.currentTarget.value)} disabled=${closed}
        aria-invalid=${invalid ? "true" : "false"} aria-describedby=${`message-${job.id}`} />
      <button type="submit" disabled=${busy || closed}>${t(active ? "jobs.lower_bid" : "jobs.bid")}</button>
    </form>
  </div>`;
}

export function JobCard({ job, own, now, market, fresh }) {
  const [message, setMessage] = useState(null);
  // Each message is numbered (data-seq), so that a reader (tests/steps/board.py) can tell the
  // outcome of its own move from the one shown before it.
  const say = (next) => setMessage((old) => ({ ...next, seq: (old ? old.seq : 0) + 1 }));
  const closed = Date.parse(job.deadline) <= Math.max(now, Date.now());
  const taken = Boolean(message && message.taken);
  const classes = ["job", fresh && "new", taken && "taken"].filter(Boolean).join(" ");
  return html`<article class=${classes} id=${`job-${job.id}`} data-job-id=${job.id} data-mode=${job.mode}
      tabindex="-1" aria-labelledby=${`ref-${job.id}`}>
    <div class="job-head">
      <h3 class="ref" id=${`ref-${job.id}`}>${label(job)}</h3>
      <span class=${`mode tag mode-${job.mode}`}>${t(job.mode === "grab" ? "jobs.mode.grab" : "jobs.mode.auction")}</span>
      ${taken && html`<span class="tag taken-tag">${t("jobs.taken_tag")}</span>`}
      <span class="price">${job.mode === "grab" ? money(job.price_minor, job.currency)
        : job.ceiling_minor ? t("jobs.price.max", { amount: money(job.ceiling_minor, job.currency) }) : t("jobs.price.open")}</span>
    </div>
    <p class="route"><span class="from">${placeName(job.origin)}</span> <span class="arrow">→</span>${" "}
      <span class="to">${placeName(job.destination)}</span></p>
    <p class="addresses">${addressLine(job)}</p>
    <${Facts} job=${job} />
    ${job.mode === "grab"
      ? html`<${GrabActions} job=${job} market=${market} closed=${closed} say=${say} />`
      : html`<${AuctionActions} job=${job} own=${own} market=${market} closed=${closed} say=${say} message=${message} />`}
    <${Message} id=${`message-${job.id}`} message=${message} />
  </article>`;
}

// A job awarded to the organization: the full view (its reference), the price, the pickup window,
// and the way on: planning its loads in the console.
export function WonCard({ job, focus, canPlan }) {
  const card = useRef(null);
  useLayoutEffect(() => { if (focus && card.current) card.current.focus(); }, [focus]);
  return html`<article class="won" id=${`won-${job.id}`} data-job-id=${job.id} tabindex="-1" ref=${card}
      aria-labelledby=${`won-ref-${job.id}`}>
    <div class="job-head">
      <h3 id=${`won-ref-${job.id}`}>${label(job)}</h3>
      <span class="tag awarded">${t("jobs.awarded_tag")}</span>
      <span class="price">${money(job.award_price_minor, job.currency)}</span>
    </div>
    <p class="route">${placeName(job.origin)} → ${placeName(job.destination)}</p>
    <p class="addresses">${t("jobs.won_pickup", { window: windowText(job.pickup_from, job.pickup_until) })}</p>
    ${canPlan && html`<p class="next"><a href=${`/console#/carrier/jobs/${job.id}`}>${t("jobs.plan_loads")}</a></p>`}
  </article>`;
}
