// The gate screen, for gate staff at a tablet: choose the site, verify a driver's pickup code
// (typed, or read from the QR code on the driver's phone with the camera) and plate (POST
// /gate/verify: the verdict, and what a valid code names), check the truck in, and work the live
// queue (the board's websocket): call the next truck a dock can serve, record the loading evidence
// (gate-evidence.js), mark loading and loaded. The API calls the next truck in queue order only (a
// chosen truck cannot be called), so that is what the screen offers. The gate clerk sees no prices:
// nothing here asks for or shows one.
import { html, useEffect, useRef, useState } from "../vendor/htm-3.1.1/standalone.module.js";
import { api, live } from "./api.js";
import { Evidence } from "./gate-evidence.js";
import { QrScanner } from "./gate-scan.js";
import { Field, FormError, siteTime, Status, t, useForm, useLoad } from "./ui.js";
import { Appointments } from "./appointments.js";

const i18n = window.DispatchI18n;

// The verdict of a code check: valid (what it names, and "check in") or refused with its reason in
// the page's language (from the result code; the API's `detail` is English).
// Its times are the site's, as the queue's and the appointments' are (`zone`: the site's).
function Verdict({ verdict, onCheckIn, zone }) {
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  async function checkIn() {
    setBusy(true);
    try { await onCheckIn(); setError(null); } catch (err) { setError(err); } finally { setBusy(false); }
  }
  if (!verdict.valid) {
    return html`<div class="verdict refused" id="verdict" role="alert" data-result=${verdict.result}>
      <p class="verdict-title">${t("console.gate.verdict.refused")}</p>
      <p id="verdict-reason">${t(verdict.reason ? `console.gate.reason.${verdict.reason}` : `console.gate.result.${verdict.result}`)}</p>
      ${verdict.revoke_reason && html`<p id="verdict-why">${t("console.gate.verdict.why", { reason: verdict.revoke_reason })}</p>`}</div>`;
  }
  const rows = [
    ["console.gate.verdict.load", verdict.load_number, "load-number"],
    // The carrier's spelling of the truck's plate (the verdict's `plate` is its key form); a job
    // authorization's code names no truck: then the plate as typed, which it matched.
    ["console.gate.verdict.plate", verdict.plate_display || verdict.sent.plate, "plate"],
    ["console.gate.verdict.driver", verdict.driver_name, "driver"],
    ["console.gate.verdict.carrier", verdict.carrier_name, "carrier"],
    ["console.gate.verdict.valid_until", verdict.valid_until && siteTime(verdict.valid_until, zone, { withDate: true }), "valid-until"],
  ].filter(([, value]) => value);
  return html`<div class="verdict valid" id="verdict" role="status" data-result="valid">
    <p class="verdict-title">${t("console.gate.verdict.valid")}</p>
    <dl>${rows.map(([key, value, name]) => html`<div key=${key} data-name=${name}><dt>${t(key)}</dt><dd>${value}</dd></div>`)}</dl>
    ${verdict.load_id && html`<p class="muted small" id="verdict-load-id">${t("console.gate.verdict.load_id", { id: verdict.load_id })}</p>`}
    ${verdict.ticket
      ? html`<p id="checked-in">${t("console.gate.checked_in", { position: verdict.ticket.position ?? "—" })}</p>`
      : verdict.load_id && html`<button type="button" id="check-in" class="big" disabled=${busy}
          onClick=${checkIn}>${t("console.gate.check_in")}</button>`}
    ${error && html`<p class="error" role="alert">${error.message}</p>`}
  </div>`;
}

function Verify({ siteId, zone }) {
  const [verdict, setVerdict] = useState(null);
  const [scanning, setScanning] = useState(false);
  const [scanNote, setScanNote] = useState(null);
  const [verifyNow, setVerifyNow] = useState(false);
  const formRef = useRef(null);
  const form = useForm({ code: "", plate: "" }, async (values) => {
    setVerdict(null);
    setScanNote(null);
    const answer = await api("POST", "/gate/verify", { site_id: siteId, ...values });
    setVerdict({ ...answer, sent: values });
  });
  // A code read from the camera is verified at once when the plate is typed already; otherwise the
  // plate is asked for (the QR code holds the code alone). Submitting waits for the next render, so
  // that the form sends the code just read.
  useEffect(() => {
    if (verifyNow) { setVerifyNow(false); formRef.current.requestSubmit(); }
  }, [verifyNow]);
  function scanned(code) {
    setScanning(false);
    form.set("code")(code);
    if (form.values.plate.trim()) {
      setVerifyNow(true);
    } else {
      setScanNote("console.gate.scan.need_plate");
      formRef.current.querySelector("input[name=plate]").focus();
    }
  }
  async function checkIn() {
    const { code, plate } = verdict.sent;
    const ticket = await api("POST", "/gate/check-in", { site_id: siteId, code, plate });
    setVerdict((old) => ({ ...old, ticket }));
  }
  return html`<form class="panel" id="verify" ref=${formRef} onSubmit=${form.submit} aria-labelledby="verify-title" novalidate>
    <h3 id="verify-title">${t("console.gate.verify.title")}</h3>
    <div class="row">
      <${Field} name="code" label=${t("console.gate.verify.code")} value=${form.values.code}
        onInput=${form.set("code")} error=${form.fieldError("code")} required autocomplete="off" />
      <${Field} name="plate" label=${t("console.gate.verify.plate")} value=${form.values.plate}
        onInput=${form.set("plate")} error=${form.fieldError("plate")} required autocomplete="off" />
    </div>
    ${scanning
      ? html`<${QrScanner} onCode=${scanned} onClose=${() => setScanning(false)} />`
      : html`<button type="button" class="big scan" id="scan" onClick=${() => { setScanNote(null); setScanning(true); }}>${t("console.gate.scan.open")}</button>`}
    ${scanNote && html`<p id="scan-note" role="status">${t(scanNote)}</p>`}
    <${FormError} error=${form.error} />
    <button type="submit" class="big" disabled=${form.busy}>${t("console.gate.verify.submit")}</button>
    ${verdict && html`<${Verdict} verdict=${verdict} onCheckIn=${checkIn} zone=${zone} />`}
  </form>`;
}

const time = (iso, zone) => (iso ? i18n.time(new Date(iso), zone) : "—");

// A truck at a dock moves on: called → loading → loaded (then it leaves by the driver's app).
const NEXT_STEP = { called: "loading", loading: "loaded" };

function AtDock({ ticket, open, onOpen, onAdvance }) {
  const [error, setError] = useState(null);
  const step = NEXT_STEP[ticket.status];
  const advance = () => onAdvance(ticket, step).then(() => setError(null), setError);
  return html`<tr id=${`ticket-${ticket.id}`}>
    <td>${ticket.dock && ticket.dock.name}</td><td class="plate">${ticket.plate}</td><td>${ticket.driver_name || "—"}</td>
    <td class="state" data-state=${ticket.status}>${t(`console.gate.status.${ticket.status}`)}</td>
    <td class="actions">${step && html`<button type="button" onClick=${advance}>${t(`console.gate.mark.${step}`)}</button>`}
      <button type="button" aria-expanded=${open ? "true" : "false"} aria-controls=${open ? "evidence" : undefined}
        onClick=${() => onOpen(open ? null : ticket.id)}>${t("console.gate.weigh.open")}</button>
      ${error && html`<span class="error" role="alert">${error.message}</span>`}</td></tr>`;
}

const advanceTicket = (ticket, step) => api("POST", `/gate/tickets/${ticket.id}/${step}`);

function Queue({ siteId }) {
  const [board, setBoard] = useState(null);
  const [state, setState] = useState("connecting");
  const [called, setCalled] = useState(null);
  const [error, setError] = useState(null);
  const [dockId, setDockId] = useState("");
  const [evidenceOf, setEvidenceOf] = useState(null);
  useEffect(() => {
    setBoard(null);
    return live(`/gate/sites/${siteId}/board/live`, setBoard, { onState: setState });
  }, [siteId]);
  if (!board) return html`<p class="muted" aria-live="polite">${t("console.loading")}</p>`;
  const busy = new Set(board.at_docks.map((ticket) => ticket.dock && ticket.dock.id));
  const free = board.docks.filter((dock) => !busy.has(dock.id));
  const dock = free.find((d) => d.id === dockId) || free[0];
  async function call(event) {
    event.preventDefault();
    try {
      const ticket = await api("POST", `/gate/sites/${siteId}/call`, { dock_id: dock.id });
      setCalled(ticket);
      setError(null);
    } catch (err) { setError(err); setCalled(null); }
  }
  const zone = board.site_timezone;
  // The evidence of the truck chosen at a dock, while it is there (the board is live: it follows).
  const evidenceTicket = board.at_docks.find((ticket) => ticket.id === evidenceOf);
  return html`<section class="panel" id="queue" aria-labelledby="queue-title">
    <h3 id="queue-title">${t("console.gate.queue.title")}
      <span class="tag" id="live-state">${t(`console.gate.live.${state}`)}</span></h3>
    ${board.waiting.length
      ? html`<table class="list" id="waiting">
          <caption class="sr-only">${t("console.gate.queue.title")}</caption>
          <thead><tr><th scope="col">#</th><th scope="col">${t("console.gate.verdict.plate")}</th>
            <th scope="col">${t("console.gate.verdict.driver")}</th><th scope="col">${t("console.gate.queue.arrival")}</th>
            <th scope="col">${t("console.gate.queue.slot")}</th><th scope="col">${t("console.gate.queue.wait")}</th></tr></thead>
          <tbody>${board.waiting.map((ticket) => html`<tr key=${ticket.id} id=${`ticket-${ticket.id}`}>
            <td>${ticket.position}</td><td class="plate">${ticket.plate}</td><td>${ticket.driver_name || "—"}</td>
            <td>${t(`console.gate.arrival.${ticket.arrival}`)} ${time(ticket.arrived_at, zone)}</td>
            <td>${time(ticket.slot_start, zone)}</td>
            <td>${ticket.estimated_wait_minutes ? i18n.duration(ticket.estimated_wait_minutes * 60) : t("console.gate.queue.next")}</td>
          </tr>`)}</tbody></table>`
      : html`<p class="muted" id="queue-empty">${t("console.gate.queue.empty")}</p>`}
    ${free.length > 0 && board.waiting.length > 0 && html`<form class="row call" id="call" onSubmit=${call} novalidate>
      <div class="field"><label for="call-dock">${t("console.gate.call.dock")}</label>
        <select id="call-dock" value=${dock.id} onChange=${(e) => setDockId(e.currentTarget.value)}>
          ${free.map((d) => html`<option key=${d.id} value=${d.id}>${d.name}</option>`)}</select></div>
      <button type="submit" class="big">${t("console.gate.call.submit")}</button></form>`}
    ${called && html`<p id="called" role="status">${t("console.gate.call.done", { plate: called.plate, dock: called.dock ? called.dock.name : "" })}</p>`}
    <${FormError} error=${error} />
    <h3 id="docks-title">${t("console.gate.docks.title")}</h3>
    ${board.at_docks.length
      ? html`<table class="list" id="at-docks" aria-labelledby="docks-title">
          <thead><tr><th scope="col">${t("console.gate.call.dock")}</th><th scope="col">${t("console.gate.verdict.plate")}</th>
            <th scope="col">${t("console.gate.verdict.driver")}</th><th scope="col">${t("console.gate.docks.status")}</th>
            <th scope="col">${t("console.actions")}</th></tr></thead>
          <tbody>${board.at_docks.map((ticket) => html`<${AtDock} key=${ticket.id} ticket=${ticket}
            open=${ticket.id === evidenceOf} onOpen=${setEvidenceOf} onAdvance=${advanceTicket} />`)}</tbody></table>`
      : html`<p class="muted">${t("console.gate.docks.empty")}</p>`}
    ${evidenceTicket && html`<${Evidence} key=${evidenceTicket.id} ticket=${evidenceTicket} onAdvance=${advanceTicket} />`}
  </section>`;
}

export function Gate({ me }) {
  const sites = useLoad(() => api("GET", "/sites"), []);
  const [siteId, setSiteId] = useState("");
  const chosen = sites.data && (sites.data.find((s) => s.id === siteId) || sites.data[0]);
  return html`<section aria-labelledby="gate-title" class="gate">
    <h2 id="gate-title">${t("console.nav.gate")}</h2>
    <${Status} state=${sites} />
    ${sites.data && !chosen && html`<p id="no-sites">${t("console.gate.no_sites")}</p>`}
    ${chosen && html`
      <div class="field"><label for="gate-site">${t("console.gate.site")}</label>
        <select id="gate-site" value=${chosen.id} onChange=${(e) => setSiteId(e.currentTarget.value)}>
          ${sites.data.map((s) => html`<option key=${s.id} value=${s.id}>${s.name}</option>`)}</select></div>
      <${Verify} key=${`verify-${chosen.id}`} siteId=${chosen.id} zone=${chosen.timezone} />
      <${Queue} key=${`queue-${chosen.id}`} siteId=${chosen.id} />
      <${Appointments} key=${`appointments-${chosen.id}`} me=${me} siteId=${chosen.id} />`}
  </section>`;
}
