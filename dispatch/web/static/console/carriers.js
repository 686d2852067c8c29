// The carrier picker of a tender (the Post-a-job screen's "Tender first", the job screen's
// re-tender): find carrier organizations by name (GET /carriers?q=), add them to a ranked list,
// move them up or down, remove them. Every step is a native button with a visible label, so the
// whole list is made with the keyboard; the API's error for the list is shown under it.
import { html, useEffect, useRef, useState } from "../vendor/htm-3.1.1/standalone.module.js";
import { api } from "./api.js";
import { t } from "./ui.js";

// Wait this long after the last key before asking the API, so that typing a name is one request.
const SEARCH_DELAY_MS = 250;

let counter = 0;

// `chosen`: [{id, name}] in rank order; `exclude`: ids never offered (the carriers that failed).
export function CarrierPicker({ name = "carriers", legend, chosen, onChange, error, exclude = [] }) {
  const [id] = useState(() => `carrier-picker-${++counter}`);
  const [query, setQuery] = useState("");
  const [found, setFound] = useState({ items: null, error: null });
  useEffect(() => {
    let current = true;
    const timer = setTimeout(() => {
      api("GET", `/carriers?limit=10&q=${encodeURIComponent(query.trim())}`).then(
        (items) => current && setFound({ items, error: null }),
        (err) => current && setFound({ items: null, error: err }),
      );
    }, SEARCH_DELAY_MS);
    return () => { current = false; clearTimeout(timer); };
  }, [query]);
  // Where the keyboard's focus goes after a step whose button leaves or moves: the same button of
  // the moved carrier (its other one at the list's end), or the search field after add and remove.
  const box = useRef(null);
  const focusNext = useRef(null);
  useEffect(() => {
    const want = focusNext.current;
    focusNext.current = null;
    if (!want || !box.current) return;
    const item = want.carrier && box.current.querySelector(`.picked li[data-carrier="${want.carrier}"]`);
    const target = item
      ? [item.querySelector(`button[data-act=${want.act}]:not([disabled])`), item.querySelector("button:not([disabled])")].find(Boolean)
      : box.current.querySelector("input[type=search]");
    if (target) target.focus();
  }, [chosen]);
  const change = (next, want) => { focusNext.current = want; onChange(next); };
  const taken = new Set([...chosen.map((c) => c.id), ...exclude]);
  const choices = (found.items || []).filter((c) => !taken.has(c.id));
  const move = (i, by) => {
    const next = [...chosen];
    [next[i], next[i + by]] = [next[i + by], next[i]];
    change(next, { carrier: chosen[i].id, act: by < 0 ? "up" : "down" });
  };
  return html`<fieldset class="carrier-picker" id=${id} ref=${box} aria-invalid=${error ? "true" : "false"}
      aria-describedby=${error ? `${id}-error` : undefined}>
    <legend>${legend}</legend>
    ${chosen.length === 0
      ? html`<p class="muted picked-none">${t("carriers.pick.none")}</p>`
      : html`<ol class="picked">${chosen.map((c, i) => html`<li key=${c.id} data-carrier=${c.id}>
          <span class="picked-name">${c.name}</span>
          <span class="picked-actions">
            <button type="button" data-act="up" disabled=${i === 0} onClick=${() => move(i, -1)}
              aria-label=${t("carriers.pick.up_named", { name: c.name })}>${t("carriers.pick.up")}</button>
            <button type="button" data-act="down" disabled=${i === chosen.length - 1} onClick=${() => move(i, 1)}
              aria-label=${t("carriers.pick.down_named", { name: c.name })}>${t("carriers.pick.down")}</button>
            <button type="button" onClick=${() => change(chosen.filter((x) => x.id !== c.id), {})}
              aria-label=${t("carriers.pick.remove_named", { name: c.name })}>${t("carriers.pick.remove")}</button>
          </span></li>`)}</ol>`}
    <div class="field">
      <label for=${`${id}-q`}>${t("carriers.pick.search")}</label>
      <input id=${`${id}-q`} name=${`${name}-search`} type="search" value=${query} autocomplete="off"
        onInput=${(e) => setQuery(e.currentTarget.value)}
        onKeyDown=${(e) => e.key === "Enter" && e.preventDefault()} />
    </div>
    <div class="found" aria-live="polite">
      ${found.error && html`<p class="error">${found.error.message}</p>`}
      ${found.items && (choices.length === 0
        ? html`<p class="muted">${t("carriers.pick.no_match")}</p>`
        : html`<ul class="found-list">${choices.map((c) => html`<li key=${c.id}>
            <button type="button" data-carrier=${c.id}
              onClick=${() => change([...chosen, c], {})}>${t("carriers.pick.add_named", { name: c.name })}</button>
          </li>`)}</ul>`)}
    </div>
    ${error && html`<p class="field-error error" id=${`${id}-error`} data-field=${name}>${error}</p>`}
  </fieldset>`;
}
