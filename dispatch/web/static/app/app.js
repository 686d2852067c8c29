// The driver's phone app (/app), on Preact + htm (docs/ui.md): the header (back, the screen's title,
// live or offline, the language), the banners above every screen (the dock call, offline with
// positions waiting, an update needed, the dispatcher's message, else a note for this screen), and
// the screen (views.js). What it knows and does is in model.js; the API client (driver-api.js) and the GPS queue
// (gps-queue.js) are plain scripts without UI. See docs/driver-app.md.
import { html, render } from "../vendor/htm-3.1.1/standalone.module.js";
import * as model from "./model.js";
import { unlockSound } from "./phone.js";
import { say } from "./texts.js";
import { Screen, TITLES } from "./views.js";

const I = window.DispatchI18n;
const t = (key, params) => I.t(key, params);
const { state } = model;

function LanguageSwitcher() {
  // data-i18n-switcher: i18n.js keeps its options' texts and value in step with the page's language.
  return html`<select data-i18n-switcher aria-label=${t("common.language")} value=${I.locale}
    onChange=${(e) => I.switchTo(e.currentTarget.value)}>
    ${I.LOCALES.map((l) => html`<option key=${l} value=${l}>${t(`common.language.${l}`)}</option>`)}
  </select>`;
}

function Header() {
  const paired = model.isPaired();
  const live = state.live && navigator.onLine;
  const canGoBack = state.back.length > 0 && state.screen !== "pair";
  return html`<header>
    <button type="button" id="back" class="icon" hidden=${!canGoBack} aria-label=${t("app.back")}
      onClick=${model.goBack}>←</button>
    <div class="heading">
      <h1 id="title">${t(TITLES[state.screen] || "app.title")}</h1>
      <span id="status" class=${`status${live ? " live" : ""}`}>
        ${!paired ? null : live ? t("app.status.live") : t("app.status.offline")}</span>
    </div>
    <${LanguageSwitcher} />
  </header>`;
}

async function update() {
  const registration = navigator.serviceWorker && await navigator.serviceWorker.getRegistration("/app");
  if (registration) await registration.update().catch(() => {});
  location.reload();
}

function Banners() {
  const paired = model.isPaired();
  const offline = paired && (!navigator.onLine || state.gps.offline || state.unreachable);
  const waiting = state.gps.waiting;
  const notice = state.notice && state.notice.screen === state.screen ? state.notice : null;
  return html`
    <div id="call-banner" class="banner call" role="alert" hidden=${!state.call}
      data-dock=${state.call ? state.call.dock : undefined} data-load=${state.call ? state.call.load : undefined}>
      <span id="call-text">${state.call ? t("app.call.go", { dock: state.call.dock }) : ""}</span>
      <button type="button" id="call-ok" onClick=${model.dismissCall}>${t("app.call.ok")}</button>
    </div>
    <div id="offline-banner" class="banner offline" role="status" hidden=${!offline} data-waiting=${String(waiting)}>
      ${waiting > 0 ? t("app.offline.waiting", { count: waiting }) : t("app.offline.banner")}</div>
    <div id="upgrade-banner" class="banner error" role="alert" hidden=${!state.upgrade}>
      <span>${t("app.upgrade.text")}</span>
      <button type="button" id="upgrade-reload" onClick=${update}>${t("app.upgrade.reload")}</button>
    </div>
    ${state.inbox
      ? html`<div id="message" class="banner inbox" role="status">
          <span>${say(state.inbox)}</span>
          <button type="button" id="message-ok" onClick=${model.dismissInbox}>${t("app.call.ok")}</button>
        </div>`
      : html`<div id="message" class=${`banner ${notice ? notice.kind : "info"}`} role="status"
          hidden=${!notice}>${say(notice) || null}</div>`}`;
}

// The header and the banners stay in view when a screen scrolls: a dock call is never off-screen.
function App() {
  return html`<div class="top"><${Header} /><${Banners} /></div><${Screen} />`;
}

const root = document.getElementById("root");
let drawing = false;
// Every change of the model redraws (once per turn of the event loop, however many changes came).
function draw() {
  if (drawing) return;
  drawing = true;
  queueMicrotask(() => { drawing = false; render(html`<${App} />`, root); });
}

async function boot() {
  if (navigator.serviceWorker) {
    navigator.serviceWorker.register("/app/sw.js", { scope: "/app" }).catch((err) => console.warn("sw:", err));
  }
  try { await I.start(); } catch (err) { console.warn("i18n:", err); }
  model.subscribe(draw);
  I.onChange(draw);
  model.follow();
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && state.back.length > 0 && state.screen !== "pair") model.goBack();
  });
  document.addEventListener("pointerdown", unlockSound, { once: true });
  draw();
  await model.start();
}

window.DriverApp = { state };
boot();
