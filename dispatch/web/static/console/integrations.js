// Integrations: the organization's webhook endpoints (dispatch/webhooks: register, the signing secret
// shown once, rotate, pause and resume, a test event, the attempts log, redeliver, delete) and its
// events (dispatch/event_api: newest first, a type filter, older ones by cursor, the documents they
// link to). The API decides everything (the URL's address filter, who may do what); this shows it.
import { html, useEffect, useState } from "../vendor/htm-3.1.1/standalone.module.js";
import { api } from "./api.js";
import { Confirmed } from "./admin.js";
import { PaperButton } from "./papers.js";
import { Checks, Field, FormError, Select, Status, t, useForm, useLoad } from "./ui.js";

const i18n = window.DispatchI18n;
const ENDPOINTS = "/webhooks/endpoints";
const POLL_MS = 3000;
const EVENTS_PAGE = 15; // events per page of the events view ("older events" reads the next)

// The registry of event types (GET /events/types), shared by the register form and the events filter.
const useEventTypes = () => useLoad(() => api("GET", "/events/types"), []);

// Read `reload` again every few seconds while the screen is open: attempts are made by the server's
// delivery loop, not by this page, so there is nothing to wait on but the log itself.
function usePoll(reload) {
  useEffect(() => {
    const every = setInterval(() => { if (!document.hidden) reload(); }, POLL_MS);
    return () => clearInterval(every);
  }, [reload]);
}

function endpointState(e) {
  if (e.disabled_at) return "disabled";
  return e.paused ? "paused" : "active";
}

function StateTag({ endpoint }) {
  const state = endpointState(endpoint);
  return html`<span class=${`tag endpoint-state ${state}`} data-state=${state}>${t(`integrations.state.${state}`)}</span>`;
}

// "200 · 35 ms" or "no answer · 10,000 ms": what one attempt got.
function outcomeText(a) {
  const status = a.status_code === null || a.status_code === undefined
    ? t("integrations.attempt.no_answer") : t("integrations.attempt.status", { status: a.status_code });
  return status;
}

// The signing secret, shown this once (after registering and after a rotation), with a copy button.
function SecretOnce({ secret, previousUntil, onDone }) {
  const [copied, setCopied] = useState(null);
  async function copy() {
    try { await navigator.clipboard.writeText(secret); setCopied("integrations.secret.copied"); } catch (err) {
      document.getElementById("webhook-secret-value").select();
      setCopied("integrations.secret.copy_by_hand");
    }
  }
  return html`<div class="panel secret" id="webhook-secret" role="status" aria-labelledby="webhook-secret-title">
    <h3 id="webhook-secret-title">${t("integrations.secret.title")}</h3>
    <p class="store-now"><strong>${t("integrations.secret.store_now")}</strong></p>
    ${previousUntil && html`<p class="grace">${t("integrations.secret.grace", { until: i18n.dateTime(previousUntil) })}</p>`}
    <label for="webhook-secret-value">${t("integrations.secret.label")}</label>
    <input id="webhook-secret-value" readonly value=${secret} onFocus=${(e) => e.currentTarget.select()} />
    <p>
      <button type="button" id="copy-webhook-secret" onClick=${copy}>${t("integrations.secret.copy")}</button>
      ${copied && html`<span class="muted" role="status"> ${t(copied)}</span>`}
    </p>
    <button type="button" id="webhook-secret-done" onClick=${onDone}>${t("integrations.secret.done")}</button>
  </div>`;
}

// -- the endpoints ----------------------------------------------------------------------------------

function TypeChoice({ types, every, onEvery, chosen, onChosen, error }) {
  const options = (types.data || []).map((k) => ({ value: k.type, label: k.type }));
  return html`<fieldset class="type-choice">
    <legend>${t("integrations.form.event_types")}</legend>
    <label><input type="radio" name="every-type" value="every" checked=${every}
      onChange=${() => onEvery(true)} /> ${t("integrations.form.every_type")}</label>
    <label><input type="radio" name="every-type" value="chosen" checked=${!every}
      onChange=${() => onEvery(false)} /> ${t("integrations.form.chosen_types")}</label>
    ${!every && html`<${Checks} name="event_types" legend=${t("integrations.form.types_legend")}
      options=${options} chosen=${chosen} onChange=${onChosen} error=${error} />`}
    ${every && error && html`<p class="field-error error" data-field="event_types">${error}</p>`}
  </fieldset>`;
}

function RegisterEndpoint({ onRegistered }) {
  const types = useEventTypes();
  const form = useForm({ url: "", description: "", every: true, event_types: [] }, async (values) => {
    const body = { url: values.url, description: values.description,
                   event_types: values.every ? null : values.event_types };
    onRegistered(await api("POST", ENDPOINTS, body));
  });
  return html`<form class="panel" id="register-endpoint" onSubmit=${form.submit} aria-labelledby="register-title" novalidate>
    <h3 id="register-title">${t("integrations.form.title")}</h3>
    <p class="muted">${t("integrations.form.how")}</p>
    <${Field} name="url" type="url" label=${t("integrations.form.url")} value=${form.values.url}
      onInput=${form.set("url")} error=${form.fieldError("url")} required autocomplete="off" />
    <${Field} name="description" label=${t("integrations.form.description")} value=${form.values.description}
      onInput=${form.set("description")} error=${form.fieldError("description")} autocomplete="off" />
    <${Status} state=${types} />
    <${TypeChoice} types=${types} every=${form.values.every} onEvery=${form.set("every")}
      chosen=${form.values.event_types} onChosen=${form.set("event_types")} error=${form.fieldError("event_types")} />
    <${FormError} error=${form.error} />
    <button type="submit" disabled=${form.busy}>${t("integrations.form.submit")}</button>
  </form>`;
}

function LastAttempt({ endpoint }) {
  const a = endpoint.last_attempt;
  if (!a) return html`<span class="muted">${t("integrations.endpoint.never")}</span>`;
  return html`<span class=${a.ok ? "ok" : "failed"}>${outcomeText(a)} · ${i18n.dateTime(a.attempted_at)}</span>`;
}

export function Webhooks({ me }) {
  const endpoints = useLoad(() => api("GET", ENDPOINTS), [me]);
  const [secret, setSecret] = useState(null);
  usePoll(endpoints.reload);
  async function registered(endpoint) {
    setSecret({ secret: endpoint.secret, endpointId: endpoint.id });
    await endpoints.reload();
  }
  return html`<section aria-labelledby="webhooks-title">
    <h2 id="webhooks-title">${t("integrations.nav.webhooks")}</h2>
    <p class="muted">${t("integrations.webhooks.intro")}</p>
    ${secret && html`<${SecretOnce} secret=${secret.secret} onDone=${() => setSecret(null)} />
      <p><a href=${`#/integrations/webhooks/${secret.endpointId}`} id="open-new-endpoint">${t("integrations.endpoint.open_new")}</a></p>`}
    <${Status} state=${endpoints} />
    ${endpoints.data && (endpoints.data.length === 0
      ? html`<p id="no-endpoints">${t("integrations.webhooks.none")}</p>`
      : html`<table class="list" id="endpoints">
        <thead><tr><th scope="col">${t("integrations.endpoint.url")}</th>
          <th scope="col">${t("integrations.endpoint.state")}</th>
          <th scope="col">${t("integrations.endpoint.failing_since")}</th>
          <th scope="col">${t("integrations.endpoint.last_attempt")}</th></tr></thead>
        <tbody>${endpoints.data.map((e) => html`<tr key=${e.id} id=${`endpoint-${e.id}`}>
          <td><a href=${`#/integrations/webhooks/${e.id}`} class="endpoint-link">${e.url}</a>
            ${e.description && html`<br /><span class="muted">${e.description}</span>`}</td>
          <td><${StateTag} endpoint=${e} /></td>
          <td class="failing-since">${e.failing_since ? i18n.dateTime(e.failing_since) : t("common.none")}</td>
          <td class="last-attempt"><${LastAttempt} endpoint=${e} /></td></tr>`)}
        </tbody></table>`)}
    <${RegisterEndpoint} onRegistered=${registered} />
  </section>`;
}

// -- one endpoint -----------------------------------------------------------------------------------

function Attempts({ endpointId, onRedelivered }) {
  const attempts = useLoad(() => api("GET", `${ENDPOINTS}/${endpointId}/attempts?limit=50`), [endpointId]);
  const [note, setNote] = useState(null);
  usePoll(attempts.reload);
  async function redeliver(a) {
    try {
      await api("POST", `${ENDPOINTS}/${endpointId}/redeliver`, { event_id: a.event_id });
      setNote({ text: t("integrations.attempts.redelivered", { event: a.event_id }) });
      onRedelivered();
    } catch (err) { setNote({ error: err.message }); }
  }
  return html`<section class="panel" id="attempts" aria-labelledby="attempts-title">
    <h3 id="attempts-title">${t("integrations.attempts.title")}</h3>
    <p class="muted">${t("integrations.attempts.live")}</p>
    ${note && (note.error
      ? html`<p class="error" role="alert">${note.error}</p>`
      : html`<p role="status" class="redelivered">${note.text}</p>`)}
    <${Status} state=${attempts} />
    ${attempts.data && (attempts.data.items.length === 0
      ? html`<p id="no-attempts">${t("integrations.attempts.none")}</p>`
      : html`<table class="list" id="attempt-list">
        <thead><tr><th scope="col">${t("integrations.attempts.time")}</th>
          <th scope="col">${t("integrations.attempts.event")}</th>
          <th scope="col">${t("integrations.attempts.outcome")}</th>
          <th scope="col">${t("integrations.attempts.latency")}</th>
          <th scope="col">${t("integrations.attempts.excerpt")}</th>
          <th scope="col">${t("console.actions")}</th></tr></thead>
        <tbody>${attempts.data.items.map((a) => html`<tr key=${a.id} class="attempt" data-event-id=${a.event_id}
            data-ok=${a.ok ? "true" : "false"} data-status=${a.status_code === null ? "" : String(a.status_code)}>
          <td>${i18n.dateTime(a.attempted_at)}</td>
          <td><span class="event-type">${a.event_type}</span><br /><code>${a.event_id}</code></td>
          <td class=${`outcome ${a.ok ? "ok" : "failed"}`}>${outcomeText(a)}</td>
          <td>${t("integrations.attempts.ms", { ms: i18n.number(a.latency_ms) })}</td>
          <td><code class="excerpt">${a.response_excerpt}</code></td>
          <td><button type="button" class="redeliver" onClick=${() => redeliver(a)}>
            ${t("integrations.attempts.redeliver", { event: a.event_id })}</button></td></tr>`)}
        </tbody></table>`)}
  </section>`;
}

function Disabled({ endpoint, onResume }) {
  const a = endpoint.last_attempt;
  return html`<div class="panel refused" id="endpoint-disabled" role="alert">
    <p><strong>${t("integrations.disabled.title", { at: i18n.dateTime(endpoint.disabled_at) })}</strong></p>
    <p>${t("integrations.disabled.why")}</p>
    ${a && html`<p>${t("integrations.disabled.last", { outcome: outcomeText(a), at: i18n.dateTime(a.attempted_at) })}
      ${a.response_excerpt && html` <code class="excerpt">${a.response_excerpt}</code>`}</p>`}
    <button type="button" id="re-enable" onClick=${onResume}>${t("integrations.disabled.re_enable")}</button>
  </div>`;
}

export function WebhookEndpoint({ params }) {
  const path = `${ENDPOINTS}/${params.endpoint}`;
  const endpoint = useLoad(() => api("GET", path), [path]);
  const [secret, setSecret] = useState(null);
  const [notice, setNotice] = useState(null);
  // A new key after each rotation puts the rotate button back (it asks once more each time).
  const [rotations, setRotations] = useState(0);
  usePoll(endpoint.reload);
  async function act(call, done) {
    try {
      const answer = await call();
      setNotice(done ? { text: done(answer) } : null);
      await endpoint.reload();
    } catch (err) { setNotice({ error: err.message }); }
  }
  const setPaused = (paused) => act(() => api("PATCH", path, { paused }),
    () => t(paused ? "integrations.endpoint.paused_now" : "integrations.endpoint.resumed_now"));
  const sendTest = () => act(() => api("POST", `${path}/test`),
    (answer) => t("integrations.endpoint.test_sent", { event: answer.event_id }));
  async function rotate() {
    const answer = await api("POST", `${path}/rotate-secret`);
    setSecret({ secret: answer.secret, previousUntil: answer.previous_secret_until });
    setRotations((n) => n + 1);
    setNotice(null);
  }
  async function remove() {
    await api("DELETE", path);
    location.hash = "#/integrations/webhooks";
  }
  const back = html`<p><a href="#/integrations/webhooks">${t("integrations.endpoint.back")}</a></p>`;
  if (endpoint.error && endpoint.error.status === 404) {
    return html`<section class="refusal" role="alert"><h2>${t("integrations.endpoint.not_found")}</h2>${back}</section>`;
  }
  const e = endpoint.data;
  return html`<section aria-labelledby="endpoint-title">
    ${back}
    <h2 id="endpoint-title">${t("integrations.endpoint.title")}</h2>
    <${Status} state=${endpoint} />
    ${secret && html`<${SecretOnce} secret=${secret.secret} previousUntil=${secret.previousUntil}
      onDone=${() => setSecret(null)} />`}
    ${e && html`
      <dl class="facts" id="endpoint-facts">
        <dt>${t("integrations.endpoint.url")}</dt><dd class="endpoint-url">${e.url}</dd>
        <dt>${t("integrations.form.description")}</dt><dd>${e.description || t("common.none")}</dd>
        <dt>${t("integrations.form.event_types")}</dt>
        <dd class="endpoint-types">${e.event_types ? e.event_types.join(", ") : t("integrations.form.every_type")}</dd>
        <dt>${t("integrations.endpoint.state")}</dt><dd><${StateTag} endpoint=${e} /></dd>
        <dt>${t("integrations.endpoint.failing_since")}</dt>
        <dd class="failing-since">${e.failing_since ? i18n.dateTime(e.failing_since) : t("common.none")}</dd>
        <dt>${t("integrations.endpoint.last_attempt")}</dt><dd class="last-attempt"><${LastAttempt} endpoint=${e} /></dd>
        <dt>${t("integrations.endpoint.created")}</dt><dd>${i18n.dateTime(e.created_at)}</dd>
      </dl>
      ${e.disabled_at && html`<${Disabled} endpoint=${e} onResume=${() => setPaused(false)} />`}
      <div class="actions endpoint-actions" role="group" aria-label=${t("console.actions")}>
        ${!e.disabled_at && (e.paused
          ? html`<button type="button" id="resume-endpoint" onClick=${() => setPaused(false)}>${t("integrations.endpoint.resume")}</button>`
          : html`<button type="button" id="pause-endpoint" onClick=${() => setPaused(true)}>${t("integrations.endpoint.pause")}</button>`)}
        <button type="button" id="test-endpoint" onClick=${sendTest}>${t("integrations.endpoint.test")}</button>
        <${Confirmed} key=${`rotate-${rotations}`} id="rotate-secret" label=${t("integrations.endpoint.rotate")}
          confirmLabel=${t("integrations.endpoint.rotate_confirm")} onConfirm=${rotate} />
        <${Confirmed} id="delete-endpoint" label=${t("integrations.endpoint.delete")}
          confirmLabel=${t("integrations.endpoint.delete_confirm", { url: e.url })} onConfirm=${remove} />
      </div>
      ${e.paused && !e.disabled_at && html`<p class="muted" id="paused-note">${t("integrations.endpoint.paused_note")}</p>`}
      ${notice && (notice.error
        ? html`<p class="error" role="alert">${notice.error}</p>`
        : html`<p role="status" id="endpoint-notice">${notice.text}</p>`)}
      <${Attempts} endpointId=${e.id} onRedelivered=${endpoint.reload} />`}
  </section>`;
}

// -- the events -------------------------------------------------------------------------------------

const DOCUMENT_LABELS = { waybill: "common.papers.waybill", proof_of_delivery: "common.papers.proof_of_delivery" };

function DataList({ data }) {
  const entries = Object.entries(data || {});
  if (entries.length === 0) return html`<p class="muted">${t("integrations.events.no_data")}</p>`;
  const shown = (v) => (v !== null && typeof v === "object" ? JSON.stringify(v) : String(v));
  return html`<dl class="event-data">${entries.map(([k, v]) => html`<div key=${k}><dt>${k}</dt><dd>${shown(v)}</dd></div>`)}</dl>`;
}

function EventItem({ event }) {
  const subject = `${event.subject.type} ${event.subject.id}`;
  return html`<li class="event" id=${`event-${event.id}`} data-type=${event.type}>
    <p><strong class="event-type">${event.type}</strong>
      <span class="muted"> · <time dateTime=${event.occurred_at}>${i18n.dateTime(event.occurred_at)}</time> · <code>${event.id}</code></span></p>
    <p class="subject">${t("integrations.events.subject", { subject })}</p>
    <${DataList} data=${event.data} />
    ${Object.keys(event.links || {}).length > 0 && html`<p class="event-links">${Object.entries(event.links).map(([name, link]) =>
      html`<${PaperButton} key=${name} path=${link} className=${name.replaceAll("_", "-")}
        filename=${`${name.replaceAll("_", "-")}-${event.subject.id}.pdf`}
        label=${t(DOCUMENT_LABELS[name] || "integrations.events.document", { title: subject, name })} />`)}</p>`}
  </li>`;
}

export function Events({ me }) {
  const types = useEventTypes();
  const [filter, setFilter] = useState("");
  const [pages, setPages] = useState({ items: [], next: null, loaded: false, error: null, busy: false });
  async function load(before, keep) {
    setPages((old) => ({ ...old, busy: true }));
    const query = new URLSearchParams({ limit: String(EVENTS_PAGE) });
    if (filter) query.set("types", filter);
    if (before) query.set("before", before);
    try {
      const page = await api("GET", `/events/recent?${query}`);
      setPages({ items: [...keep, ...page.items], next: page.next_before, loaded: true, error: null, busy: false });
    } catch (err) {
      setPages((old) => ({ ...old, error: err, busy: false, loaded: true }));
    }
  }
  useEffect(() => { load(null, []); }, [filter, me]);
  const options = (types.data || []).map((k) => ({ value: k.type, label: k.type }));
  return html`<section aria-labelledby="events-title">
    <h2 id="events-title">${t("integrations.nav.events")}</h2>
    <p class="muted">${t("integrations.events.intro")}</p>
    <div class="filters">
      <${Select} name="event-type-filter" label=${t("integrations.events.filter")} value=${filter}
        onChange=${setFilter} options=${options} blank=${t("integrations.events.every_type")} />
      <button type="button" id="refresh-events" onClick=${() => load(null, [])}>${t("integrations.events.refresh")}</button>
    </div>
    ${pages.error && html`<p class="form-error error" role="alert">${pages.error.message}</p>`}
    ${!pages.loaded && html`<p class="muted" aria-live="polite">${t("console.loading")}</p>`}
    ${pages.loaded && pages.items.length === 0 && !pages.error && html`<p id="no-events">${t("integrations.events.none")}</p>`}
    <ol class="events" id="event-list">${pages.items.map((e) => html`<${EventItem} key=${e.id} event=${e} />`)}</ol>
    ${pages.next && html`<button type="button" id="older-events" disabled=${pages.busy}
      onClick=${() => load(pages.next, pages.items)}>${t("integrations.events.older")}</button>`}
  </section>`;
}
