// Small pieces every console screen uses: a labelled field with its error next to it, a form's
// general error, a notice, and `useLoad` (load something from the API, show errors, reload).
import { html, useCallback, useEffect, useState } from "../vendor/htm-3.1.1/standalone.module.js";

const i18n = window.DispatchI18n;
export const t = (key, params) => i18n.t(key, params);

let counter = 0;
const nextId = (prefix) => `${prefix}-${++counter}`;

// A labelled input; `error` (the API's reason) is shown under it and tied to it for screen readers.
export function Field({ name, label, error, type = "text", value, onInput, required = false, autocomplete }) {
  const [id] = useState(() => nextId(`f-${name}`));
  return html`<div class="field">
    <label for=${id}>${label}</label>
    <input id=${id} name=${name} type=${type} value=${value} required=${required}
      autocomplete=${autocomplete} aria-invalid=${error ? "true" : "false"}
      aria-describedby=${error ? `${id}-error` : undefined}
      onInput=${(e) => onInput(e.currentTarget.value)} />
    ${error && html`<p class="field-error error" id=${`${id}-error`} data-field=${name}>${error}</p>`}
  </div>`;
}

// A labelled native <select>; `blank` adds a first empty choice with that text.
export function Select({ name, label, value, onChange, options, error, blank }) {
  const id = `f-${name}`;
  return html`<div class="field">
    <label for=${id}>${label}</label>
    <select id=${id} name=${name} value=${value} aria-invalid=${error ? "true" : "false"}
      aria-describedby=${error ? `${id}-error` : undefined} onChange=${(e) => onChange(e.currentTarget.value)}>
      ${blank && html`<option value="">${blank}</option>`}
      ${options.map((o) => html`<option key=${o.value} value=${o.value}>${o.label}</option>`)}
    </select>
    ${error && html`<p class="field-error error" id=${`${id}-error`} data-field=${name}>${error}</p>`}
  </div>`;
}

// A set of checkboxes in a fieldset with a legend (role choice, permission choice).
export function Checks({ name, legend, options, chosen, onChange, error }) {
  const toggle = (value, on) => onChange(on ? [...chosen, value] : chosen.filter((v) => v !== value));
  return html`<fieldset class="checks" aria-invalid=${error ? "true" : "false"}>
    <legend>${legend}</legend>
    ${options.map((o) => html`<label key=${o.value}>
      <input type="checkbox" name=${name} value=${o.value} checked=${chosen.includes(o.value)}
        onChange=${(e) => toggle(o.value, e.currentTarget.checked)} /> ${o.label}</label>`)}
    ${error && html`<p class="field-error error" data-field=${name}>${error}</p>`}
  </fieldset>`;
}

// A time that belongs to a site (a slot, an appointment, a check-in) in the site's IANA `zone`, as
// the gate's screens show it; the zone is named when the site's clock reads otherwise than the
// viewer's at that instant, so that the site's 12:00 never passes for the viewer's own. `withDate`:
// with the date. No zone (an address, not a site): the viewer's own time.
export function siteTime(value, zone, { withDate = false } = {}) {
  const format = withDate ? i18n.dateTime : i18n.time;
  const there = format(value, zone || undefined);
  if (!zone || i18n.dateTime(value, zone) === i18n.dateTime(value)) return there;
  return t("common.time.at_site", { time: there, zone });
}

export function FormError({ error }) {
  if (!error) return null;
  return html`<p class="form-error error" role="alert">${error.message}</p>`;
}

// Load `path` (re-run with `reload()`); `data` is null until it arrives, `error` an ApiError.
// A reload that fails (a poll on a bad network, a busy server) keeps what was shown beside the
// error, so an open panel under it stays open; what was loaded for other `deps` is never kept.
export function useLoad(load, deps = []) {
  const [state, setState] = useState({ data: null, error: null, deps: null });
  // Returns a promise that settles once the new state is set, so that a form can wait for it.
  const reload = useCallback(
    () => load().then(
      (data) => setState({ data, error: null, deps }),
      (error) => setState((old) => ({ data: old.deps === deps ? old.data : null, error, deps })),
    ),
    deps,
  );
  useEffect(() => { reload(); }, [reload]);
  return { ...state, reload };
}

// The shape every form on the console has: its values, the API's field errors, the general error,
// and submit(), which sends, clears the errors on success and keeps what was typed on failure.
// A field's error goes as soon as the person changes that field (it answered the old value): the
// form remembers which values changed since the last refusal. `fieldError(name, value)`: the API's
// error for field `name`, unless the form value `value` (by default the same name) has changed
// since; `changed(value)` tells a screen that reads the errors itself (jobs.js's tender part).
export function useForm(initial, send) {
  const [values, setValues] = useState(initial);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const [edited, setEdited] = useState(() => new Set());
  const set = (name) => (value) => {
    setValues((old) => ({ ...old, [name]: value }));
    setEdited((old) => (old.has(name) ? old : new Set(old).add(name)));
  };
  async function submit(event) {
    event.preventDefault();
    setBusy(true);
    try {
      await send(values);
      setValues(initial);
      setError(null);
    } catch (err) {
      setError(err);
    } finally {
      setEdited(new Set());
      setBusy(false);
    }
  }
  const changed = (value) => edited.has(value);
  const fieldError = (name, value = name) =>
    (error && error.fields && !edited.has(value) ? error.fields[name] : undefined);
  return { values, set, submit, error, busy, fieldError, changed };
}

export function Status({ state }) {
  if (state.error) return html`<p class="form-error error" role="alert">${state.error.message}</p>`;
  if (!state.data) return html`<p class="muted" aria-live="polite">${t("console.loading")}</p>`;
  return null;
}

export function Refusal() {
  return html`<section class="refusal" role="alert">
    <h2>${t("console.refused.title")}</h2><p>${t("console.refused.text")}</p>
    <p><a href="#/">${t("console.refused.home")}</a></p></section>`;
}
