// The gate board: the site's yard, live, on a screen at the gate (Preact + htm, docs/ui.md). The
// page takes a bearer token from the URL fragment (#token=..., never sent to the server in the URL)
// or asks gate staff to sign in (signin.js, the pages' shared sign-in), then opens the board's
// websocket; every frame is the whole board, so it is simply drawn again.
//
// In English or Chinese (i18n.js): the page is drawn again in place when the language changes (the
// socket stays). The board is a display at the site, so its times (arrivals, slots, the clock) are
// in the site's time zone (the board's site_timezone), and the page says so.
import { html, render, useEffect, useRef, useState } from "/static/vendor/htm-3.1.1/standalone.module.js";

const siteId = location.pathname.split("/").pop();
// The console's session key (console/api.js): one sign-in per browser tab for every page.
const TOKEN_KEY = "dispatch.console.token";
// Close codes that mean the token is no good (policy violation, unauthorized, forbidden): sign in
// again rather than reconnect.
const SIGNED_OUT = [1008, 4401, 4403];
const i18n = window.DispatchI18n;
const signin = window.DispatchSignin;
const t = (key, params) => i18n.t(key, params);

const time = (iso, zone) => (iso ? i18n.time(iso, zone) : t("common.none"));
const statusText = (ticket) => (i18n.has(`gate.status.${ticket.status}`) ? t(`gate.status.${ticket.status}`) : ticket.status);

function arrivalText(ticket) {
  if (ticket.waiting_for_slot) return t("gate.arrival.waits_for_slot");
  const key = `gate.arrival.${ticket.arrival}`;
  return i18n.has(key) ? t(key) : ticket.arrival;
}

// The board's socket while there is a token: `board` is the latest frame, `state` the connection's.
function useBoard(token, onSignedOut) {
  const [board, setBoard] = useState(null);
  const [state, setState] = useState("connecting");
  useEffect(() => {
    if (!token) return undefined;
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const url = `${scheme}://${location.host}/gate/sites/${siteId}/board/live?access_token=${encodeURIComponent(token)}`;
    let socket;
    let timer = 0;
    let closed = false;
    const open = () => {
      socket = new WebSocket(url);
      socket.onopen = () => setState("live");
      socket.onmessage = (event) => setBoard(JSON.parse(event.data));
      socket.onclose = (event) => {
        if (closed) return;
        setState("reconnecting");
        if (SIGNED_OUT.includes(event.code)) {
          sessionStorage.removeItem(TOKEN_KEY);
          onSignedOut();
        } else {
          timer = setTimeout(open, 2000);
        }
      };
    };
    open();
    return () => { closed = true; clearTimeout(timer); socket.close(); };
  }, [token]);
  return { board, state };
}

// The date and time at the site (the viewer's own until the first board names the zone).
function Clock({ zone }) {
  const [now, setNow] = useState(() => new Date());
  useEffect(() => {
    const timer = setInterval(() => setNow(new Date()), 1000);
    return () => clearInterval(timer);
  }, []);
  return html`<span id="clock">${i18n.dateTime(now, zone)}</span>`;
}

function LanguageSwitcher() {
  return html`<select data-i18n-switcher aria-label=${t("common.language")} value=${i18n.locale}
    onChange=${(e) => i18n.switchTo(e.currentTarget.value)}>
    ${i18n.LOCALES.map((l) => html`<option key=${l} value=${l}>${t(`common.language.${l}`)}</option>`)}
  </select>`;
}

// The sign-in form: its exchange with POST /auth/login is signin.js's, the same on every page
// (it shows the form, its errors, and the organization choice of a person in several).
function SignIn({ ended, onSignedIn }) {
  const form = useRef(null);
  useEffect(() => {
    signin.showLoginForm(form.current, { tokenKey: TOKEN_KEY, messageKey: ended ? "common.signin.ended" : undefined, onSignedIn });
  }, []);
  // The sign-in is the page's main content until the board shows: a landmark of its own.
  return html`<main class="signin">
    <form id="login" ref=${form} hidden>
      <p>${t("gate.login.intro")}</p>
      <label>${t("common.signin.email")}
        <input name="email" type="email" autocomplete="username" required /></label>
      <label>${t("common.signin.password")}
        <input name="password" type="password" autocomplete="current-password" required /></label>
      <select name="organization" aria-label=${t("common.signin.choose_organization")} hidden></select>
      <button type="submit">${t("gate.login.submit")}</button>
      <p class="error" id="login-error" role="alert"></p>
    </form>
  </main>`;
}

function AtDocks({ board }) {
  const zone = board.site_timezone;
  return html`<section aria-labelledby="docks-title">
    <h2 id="docks-title">${t("gate.at_docks")}</h2>
    <table id="at-docks">
      <thead><tr><th>${t("gate.column.dock")}</th><th>${t("gate.column.truck")}</th><th>${t("gate.column.driver")}</th>
        <th>${t("gate.column.status")}</th><th>${t("gate.column.since")}</th></tr></thead>
      <tbody>${board.at_docks.map((ticket) => html`<tr key=${ticket.id} class=${ticket.status} data-plate=${ticket.plate}>
        <td class="dock">${ticket.dock ? ticket.dock.name : t("common.none")}</td><td class="plate">${ticket.plate}</td>
        <td>${ticket.driver_name || ""}</td><td>${statusText(ticket)}</td><td>${time(ticket.arrived_at, zone)}</td>
      </tr>`)}</tbody>
    </table>
  </section>`;
}

function Waiting({ board }) {
  const zone = board.site_timezone;
  return html`<section aria-labelledby="waiting-title">
    <h2 id="waiting-title"><span>${t("gate.waiting")}</span>${" "}<span id="waiting-count" class="count">${String(board.waiting.length)}</span></h2>
    <table id="waiting">
      <thead><tr><th>${t("gate.column.position")}</th><th>${t("gate.column.truck")}</th><th>${t("gate.column.driver")}</th>
        <th>${t("gate.column.arrival")}</th><th>${t("gate.column.slot")}</th><th>${t("gate.column.wait")}</th></tr></thead>
      <tbody>${board.waiting.map((ticket) => html`<tr key=${ticket.id} data-plate=${ticket.plate}>
        <td>${i18n.number(ticket.position)}</td><td class="plate">${ticket.plate}</td><td>${ticket.driver_name || ""}</td>
        <td><span class=${`tag ${ticket.arrival}`}>${arrivalText(ticket)}</span></td>
        <td class="slot">${time(ticket.slot_start, zone)}</td>
        <td>${ticket.estimated_wait_minutes ? i18n.duration(ticket.estimated_wait_minutes * 60) : t("gate.wait.next")}</td>
      </tr>`)}</tbody>
    </table>
  </section>`;
}

function GateBoard() {
  const [, redraw] = useState(0);
  const [token, setToken] = useState(() => signin.tokenFromFragment(TOKEN_KEY));
  const [ended, setEnded] = useState(false);
  useEffect(() => { i18n.onChange(() => redraw((n) => n + 1)); }, []);
  // The user's own language, once known; the board does not wait for it.
  useEffect(() => { if (token) signin.useUserLanguage(token); }, [token]);
  const { board, state } = useBoard(token, () => { setEnded(true); setToken(null); });
  const shown = token && board;
  useEffect(() => {
    document.title = shown ? `${board.site_name} · ${t("gate.title")}` : t("gate.title");
  });
  return html`
    <header>
      <h1 id="site-name">${shown ? board.site_name : t("gate.title")}</h1>
      <span id="status" class=${state === "live" ? "status live" : "status"}>${t(`common.status.${state}`)}</span>
      <${Clock} zone=${board ? board.site_timezone : undefined} />
      <${LanguageSwitcher} />
    </header>
    ${!token && html`<${SignIn} key="signin" ended=${ended} onSignedIn=${(fresh) => { setEnded(false); setToken(fresh); }} />`}
    ${shown && html`<main id="board">
      <p id="zone-note" class="zone-note">${t("gate.site_time", { zone: board.site_timezone })}</p>
      <${AtDocks} board=${board} />
      <${Waiting} board=${board} />
    </main>`}`;
}

// The language first (the device's or the browser's: the user's own setting needs a session), then
// the board; a catalogue that cannot be loaded leaves the texts as their keys.
i18n.start().catch((err) => console.warn("i18n:", err)).finally(() => {
  render(html`<${GateBoard} />`, document.getElementById("root"));
});
