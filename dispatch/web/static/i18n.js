// The pages' two languages (English, zh-CN), from the same catalogue the server uses
// (dispatch/i18n/messages, served at /i18n/<locale>.json), and every number, date, amount and unit
// formatted for the language with the browser's Intl (CLDR data, the same as Babel on the server).
//
// A classic script, like signin.js: only window.DispatchI18n is defined.
//
// Which language: the user's own setting (GET /me → locale) once signed in; before that, or when the
// user has none, the language chosen on this device with the switcher, else the browser's languages
// (navigator.languages is what it sends as Accept-Language), else the organization's default, else
// English. Switching on the page re-renders in place (no reload, nothing typed is lost) and is kept
// on the device; a page that is signed in with a session also saves it as the user's setting.
//
// Markup: elements with data-i18n="key" get the text; data-i18n-placeholder, data-i18n-title and
// data-i18n-aria-label set those attributes; <select data-i18n-switcher> becomes the language switch.
"use strict";

window.DispatchI18n = (() => {
  const LOCALES = ["en", "zh-CN"];
  const STORAGE_KEY = "dispatch.locale";
  const PLACEHOLDER = /\{([a-z_][a-z0-9_]*)\}/g;
  const catalogues = new Map();
  const listeners = [];
  const missing = new Set();
  let locale = "en";
  let texts = {};
  let orgDefault = null;
  let userSetting = null;

  // The catalogue that serves a language tag: every Chinese tag is served by zh-CN, every English one
  // by en (the same rule as dispatch.i18n.supported).
  function supported(tag) {
    if (!tag) return null;
    const primary = String(tag).split(/[-_]/)[0].toLowerCase();
    return primary === "zh" ? "zh-CN" : primary === "en" ? "en" : null;
  }

  function fromDevice() {
    try { return supported(localStorage.getItem(STORAGE_KEY)); } catch (err) { return null; }
  }

  function fromBrowser() {
    for (const tag of navigator.languages || [navigator.language]) {
      const found = supported(tag);
      if (found) return found;
    }
    return null;
  }

  function chosen() {
    return supported(userSetting) || fromDevice() || fromBrowser() || supported(orgDefault) || "en";
  }

  async function load(name) {
    if (!catalogues.has(name)) {
      const answer = await fetch(`/i18n/${name}.json`);
      if (!answer.ok) throw new Error(`catalogue ${name}: HTTP ${answer.status}`);
      catalogues.set(name, await answer.json());
    }
    return catalogues.get(name);
  }

  // The text of `key` with its {placeholders} filled. With params.count, the key's plural form
  // (key_one / key_other) by the language's rule. A key the catalogue lacks is shown as the key and
  // remembered in `missing` (the browser tests fail on it).
  function t(key, params = {}) {
    let name = key;
    if (typeof params.count === "number") {
      const form = new Intl.PluralRules(locale).select(params.count);
      name = texts[`${key}_${form}`] !== undefined ? `${key}_${form}` : `${key}_other`;
    }
    const text = texts[name];
    if (text === undefined) {
      missing.add(name);
      console.warn(`i18n: no text for ${name} in ${locale}`);
      return name;
    }
    return text.replace(PLACEHOLDER, (whole, field) => (field in params ? String(params[field]) : whole));
  }

  function has(key) {
    return texts[key] !== undefined;
  }

  function apply(root = document) {
    for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
    for (const [attr, data] of [["placeholder", "i18nPlaceholder"], ["title", "i18nTitle"],
                                ["aria-label", "i18nAriaLabel"]]) {
      for (const el of root.querySelectorAll(`[data-i18n-${attr}]`)) el.setAttribute(attr, t(el.dataset[data]));
    }
    for (const select of root.querySelectorAll("select[data-i18n-switcher]")) fillSwitcher(select);
  }

  function fillSwitcher(select) {
    if (!select.options.length) {
      for (const name of LOCALES) select.add(new Option("", name));
      select.addEventListener("change", () => { switchTo(select.value); });
    }
    for (const option of select.options) option.textContent = t(`common.language.${option.value}`);
    select.value = locale;
    if (!select.getAttribute("aria-label")) select.setAttribute("aria-label", "Language / 语言");
  }

  let saver = null;

  // The user picked a language on the page: show it, keep it on this device, and save it as the
  // user's setting when the page has told us how (a signed-in session).
  async function switchTo(name) {
    const target = supported(name) || "en";
    try { localStorage.setItem(STORAGE_KEY, target); } catch (err) { /* private mode: this page only */ }
    if (userSetting) userSetting = target;
    await setLocale(target);
    if (saver) {
      try { await saver(target); userSetting = target; } catch (err) { console.warn("i18n: could not save", err); }
    }
  }

  async function setLocale(name) {
    const target = supported(name) || "en";
    texts = await load(target);
    locale = target;
    document.documentElement.lang = target;
    apply(document);
    for (const listener of listeners) listener(target);
  }

  // Load the chosen language and translate the page. `org` is the organization's default locale and
  // `user` the user's own setting, when the page knows them (both optional; see signedIn).
  async function start({ org = null, user = null } = {}) {
    orgDefault = org;
    userSetting = user;
    await setLocale(chosen());
  }

  // After signing in: the GET /me answer brings the user's setting and the organization's default.
  // `save(locale)` (optional) stores a switch as the user's setting (PATCH /me with a session).
  async function signedIn(me, save = null) {
    userSetting = (me && me.locale) || null;
    orgDefault = (me && me.organization && me.organization.locale) || orgDefault;
    saver = save;
    const target = chosen();
    if (target !== locale) await setLocale(target);
  }

  function onChange(listener) {
    listeners.push(listener);
  }

  // -- formatting (Intl, per locale) ------------------------------------------------------------
  const cache = new Map();
  function formatter(kind, options) {
    const key = `${locale}|${kind}|${JSON.stringify(options)}`;
    if (!cache.has(key)) {
      cache.set(key, kind === "date" ? new Intl.DateTimeFormat(locale, options) : new Intl.NumberFormat(locale, options));
    }
    return cache.get(key);
  }
  const asDate = (value) => (value instanceof Date ? value : new Date(value));
  // `zone`: an IANA zone (the site's), else the viewer's own.
  const date = (value, zone) => formatter("date", { dateStyle: "medium", timeZone: zone }).format(asDate(value));
  const time = (value, zone) => formatter("date", { timeStyle: "short", timeZone: zone }).format(asDate(value));
  const dateTime = (value, zone) =>
    formatter("date", { dateStyle: "medium", timeStyle: "short", timeZone: zone }).format(asDate(value));
  const number = (value, digits = 0) =>
    formatter("number", { maximumFractionDigits: digits }).format(value);
  // An amount in the currency's minor units (cents, fen) → "€1,280.00", "¥1,280.00".
  function money(minor, currency) {
    const f = formatter("number", { style: "currency", currency });
    return f.format(minor / 10 ** f.resolvedOptions().maximumFractionDigits);
  }
  // Bulk freight is weighed in tonnes: "12.5 t", "12.5 吨".
  const weight = (kg) => t("common.unit.tonnes", { value: number(kg / 1000, 3) });
  const volume = (m3) => t("common.unit.cubic_metres", { value: number(m3, 1) });
  const distance = (m) => t("common.unit.km", { value: number(m / 1000, m < 10000 ? 1 : 0) });
  const duration = (seconds) => t("common.unit.minutes", { count: Math.max(0, Math.round(seconds / 60)) });

  return {
    LOCALES, start, signedIn, setLocale, switchTo, onChange, apply, t, has, missing, supported,
    get locale() { return locale; },
    date, time, dateTime, number, money, weight, volume, distance, duration,
  };
})();
