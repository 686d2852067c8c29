// The carriers' job board (/board/jobs): the open jobs whose pickup lies in the carrier's saved
// market areas, live from the market feed; grab at the posted price, or bid and lower one's bid in
// a reverse auction; the tenders offered to the organization (accept, decline), the jobs awarded and
// the organization's bids with their standing beside.
//
// One sign-in with the console: the page uses the console's session (api.js, this tab's
// sessionStorage), so a dispatcher signed in on the console is signed in here and the other way
// round. A token in the URL fragment (#token=…, which the server never sees) signs in too, and is
// removed from the address bar at once. In English or Chinese: a language switch draws the page
// again from its state (what is typed stays, the feed's socket stays open).
import { html, render, useEffect, useMemo, useState } from "../vendor/htm-3.1.1/standalone.module.js";
import { api, session } from "../console/api.js";
import { Field, t } from "../console/ui.js";
import { JobCard } from "./cards.js";
import { Market } from "./market.js";
import { Areas, MyBids, Notices, Won } from "./side.js";
import { Tenders } from "./tenders.js";

const i18n = window.DispatchI18n;

function tokenFromFragment() {
  const token = new URLSearchParams(location.hash.slice(1)).get("token");
  if (token) {
    session.set(token);
    history.replaceState(null, "", location.pathname + location.search);
  }
}

// The language switch, the same select as on the other pages (data-i18n-switcher: i18n.js keeps
// its choices' names in the page's language).
function LanguageSwitcher() {
  return html`<select data-i18n-switcher aria-label=${t("common.language")} value=${i18n.locale}
    onChange=${(e) => i18n.switchTo(e.currentTarget.value)}>
    ${i18n.LOCALES.map((l) => html`<option key=${l} value=${l}>${t(`common.language.${l}`)}</option>`)}
  </select>`;
}

// The line's state in the header: the feed's once signed in; before that, signed out, or the
// server out of reach while the page asks who is signed in.
function lineStatus(me, market, down) {
  if (market) return market.status;
  if (me === null) return { key: "common.status.signed_out", kind: "" };
  return { key: down ? "jobs.status.unreachable" : "common.status.connecting", kind: "" };
}

function Header({ me, market, down, onSignOut }) {
  const status = lineStatus(me, market, down);
  const showCount = market && !market.noAreas && market.status.kind === "live";
  return html`<header class="bar board-bar">
    <div class="title">
      <h1>${t("jobs.title")}</h1>
      <p id="who" class="who">${me ? [me.name || me.email, me.organization.name].filter(Boolean).join(" · ") : ""}</p>
    </div>
    <span id="open-count" class="count" title=${t("jobs.open_count_title")} hidden=${!showCount}>
      ${market ? t("jobs.open_count", { count: market.jobs.size }) : ""}</span>
    <span id="status" class=${`status${status.kind ? ` ${status.kind}` : ""}`} role="status">${t(status.key)}</span>
    <${LanguageSwitcher} />
    ${me && html`<button type="button" id="sign-out" onClick=${onSignOut}>${t("jobs.sign_out")}</button>`}
  </header>`;
}

// The sign-in: POST /auth/login; a person in several organizations is asked which one. `messageKey`:
// why the form shows (the session ended, the account cannot bid), a catalogue text.
function SignIn({ messageKey, onSignedIn }) {
  const [values, setValues] = useState({ email: "", password: "" });
  const [organizations, setOrganizations] = useState(null);
  const [organization, setOrganization] = useState("");
  // Why the sign-in failed: {text: a function that builds it}; the API's detail is in the page's language.
  const [problem, setProblem] = useState(null);
  const [busy, setBusy] = useState(false);
  const set = (name) => (value) => setValues((old) => ({ ...old, [name]: value }));

  async function submit(event) {
    event.preventDefault();
    setBusy(true);
    const body = { ...values };
    if (organizations && organization) body.organization_id = organization;
    try {
      const answer = await api("POST", "/auth/login", body, { token: null });
      session.set(answer.access_token);
      setProblem(null);
      onSignedIn();
    } catch (err) {
      if (err.code === "organization_required" && Array.isArray(err.problem.organization_ids)) {
        setOrganizations(err.problem.organization_ids);
        setOrganization(err.problem.organization_ids[0]);
        setProblem({ text: () => t("common.signin.choose_organization") });
      } else {
        const detail = err.problem.detail;
        setProblem({ text: () => (err.status === 0 ? t("common.signin.unreachable") : detail || t("common.signin.failed")) });
      }
    } finally {
      setBusy(false);
    }
  }

  const said = problem ? problem.text() : messageKey ? t(messageKey) : "";
  return html`<form id="login" class="login panel" onSubmit=${submit} novalidate aria-labelledby="login-title">
    <h2 id="login-title">${t("jobs.login.title")}</h2>
    <p>${t("jobs.login.intro")}</p>
    <${Field} name="email" type="email" label=${t("console.signin.email")} value=${values.email}
      onInput=${set("email")} required autocomplete="username" />
    <${Field} name="password" type="password" label=${t("console.signin.password")} value=${values.password}
      onInput=${set("password")} required autocomplete="current-password" />
    ${organizations && html`<div class="field">
      <label for="login-organization">${t("common.signin.choose_organization")}</label>
      <select id="login-organization" name="organization" value=${organization}
        onChange=${(e) => setOrganization(e.currentTarget.value)}>
        ${organizations.map((id) => html`<option key=${id} value=${id}>${t("common.signin.organization", { id })}</option>`)}
      </select></div>`}
    <p class="error" id="login-error" role="alert">${said}</p>
    <button type="submit" disabled=${busy}>${t("jobs.login.submit")}</button>
  </form>`;
}

function Board({ market, now }) {
  const jobs = [...market.jobs.values()].sort((a, b) => Date.parse(a.deadline) - Date.parse(b.deadline));
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  return html`<main id="board">
    <section id="open" aria-labelledby="open-title">
      <h2 id="open-title">${t("jobs.open")}</h2>
      <p id="zone-note" class="zone-note">${t("common.time.your_zone", { zone })}</p>
      ${!jobs.length && !market.noAreas && market.status.kind === "live"
        && html`<p id="empty" class="muted">${t("jobs.empty")}</p>`}
      <div id="jobs">${jobs.map((job) => html`<${JobCard} key=${job.id} job=${job} own=${market.bids.get(job.id)}
        now=${now} market=${market} fresh=${market.fresh.has(job.id)} />`)}</div>
    </section>
    <aside id="side" aria-label=${t("jobs.side")}>
      <${Notices} notices=${market.notices} />
      <${Tenders} market=${market} now=${now} />
      <${Won} market=${market} />
      <${MyBids} market=${market} />
      <${Areas} market=${market} />
    </aside>
  </main>`;
}

// The clock the countdowns read: once a second.
function useNow() {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  return now;
}

function App() {
  const [me, setMe] = useState(session.token ? undefined : null); // undefined: being read; null: signed out
  const [why, setWhy] = useState(null); // the catalogue key of why the sign-in shows
  const [down, setDown] = useState(false); // the server did not answer GET /me
  const [, setVersion] = useState(0);
  const [, setLocale] = useState(i18n.locale);
  const now = useNow();
  useEffect(() => i18n.onChange(setLocale), []);

  function signedOut(key, { keepSession = false } = {}) {
    if (!keepSession) session.clear();
    setWhy(key);
    setMe(null);
  }

  // Who we are: a carrier's dispatcher (jobs.bid) gets the board in their own language.
  async function loadMe() {
    if (!session.token) { setMe(null); return; }
    try {
      const answer = await api("GET", "/me");
      if (!answer.permissions.includes("jobs.bid")) {
        // Signed in, but not as a carrier: the session stays (the console may use it).
        signedOut("jobs.signout.cannot_bid", { keepSession: true });
        return;
      }
      await i18n.signedIn(answer, (locale) => api("PATCH", "/me", { locale })).catch((err) => console.warn("i18n:", err));
      setWhy(null);
      setDown(false);
      setMe(answer);
    } catch (err) {
      if (err.status === 401) { signedOut("common.signin.ended"); return; }
      setDown(true);
      setTimeout(loadMe, 3000); // the server is unreachable or busy: try again
    }
  }
  useEffect(() => { loadMe(); }, []);

  const market = useMemo(() => (me ? new Market({
    me, onChange: () => setVersion((v) => v + 1), onSignedOut: (key) => signedOut(key),
  }) : null), [me]);
  useEffect(() => {
    if (!market) return undefined;
    market.start();
    return () => market.stop();
  }, [market]);

  useEffect(() => {
    // The number of open jobs in the tab's title too: a board is often a tab in the background.
    const open = market && !market.noAreas && market.status.kind === "live" ? market.jobs.size : 0;
    document.title = open ? `(${open}) ${t("jobs.title")}` : t("jobs.title");
    document.body.dataset.reconnects = String(market ? market.status.reconnects : 0);
  });

  async function signOut() {
    try { await api("POST", "/auth/logout"); } catch (err) { /* already ended: signed out all the same */ }
    signedOut(null);
  }

  return html`
    <${Header} me=${me} market=${market} down=${down} onSignOut=${signOut} />
    ${me === null && html`<main class="single"><${SignIn} messageKey=${why} onSignedIn=${loadMe} /></main>`}
    ${market && html`<${Board} market=${market} now=${now} />`}`;
}

await i18n.start().catch((err) => console.warn("i18n:", err));
tokenFromFragment();
render(html`<${App} />`, document.getElementById("root"));
