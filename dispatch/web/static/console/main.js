// The console: one sign-in, then one navigation that lists only the screens the person's
// permissions (GET /me) allow; screens are routed by the URL fragment (/console#/admin/members).
// A screen opened by hand without the permission answers with a refusal, and the API refuses too.
import { html, render, useEffect, useState } from "../vendor/htm-3.1.1/standalone.module.js";
import { api, session } from "./api.js";
import { Account } from "./account.js";
import { ApiTokens, DeviceTokens, Members, Roles } from "./admin.js";
import { Drivers, Vehicles } from "./fleet.js";
import { MyJobs, PostJob } from "./jobs.js";
import { JobScreen } from "./orders.js";
import { Gate } from "./gate.js";
import { CarrierJob, CarrierJobs } from "./plan.js";
import { Sites, SiteView } from "./sites.js";
import { CarrierScorecard, OurScorecard } from "./scorecards.js";
import { AppointmentsScreen } from "./appointments.js";
import { Events, WebhookEndpoint, Webhooks } from "./integrations.js";
import { LanguageSwitcher, SignIn } from "./signin.js";
import { Refusal, t } from "./ui.js";

const i18n = window.DispatchI18n;

// Every screen the console has, with the permission it needs; the navigation shows those the person
// holds, in this order. A path may hold parameters (`/jobs/:job`): the view gets them as `params`;
// such a screen (`nav: false`) is reached by links from other screens, not from the navigation.
// Screens still to be built are not listed.
const SCREENS = [
  { path: "/fleet/vehicles", label: "console.dispatch.nav.vehicles", permission: "fleet.manage", view: Vehicles },
  { path: "/fleet/drivers", label: "console.dispatch.nav.drivers", permission: "fleet.manage", view: Drivers },
  { path: "/carrier/jobs", label: "plan.nav.jobs", permission: "loads.dispatch", view: CarrierJobs },
  { path: "/carrier/jobs/:job", label: "plan.nav.job", permission: "loads.dispatch", view: CarrierJob, nav: false },
  { path: "/jobs/new", label: "console.nav.post_job", permission: "jobs.post", view: PostJob },
  { path: "/jobs", label: "console.nav.my_jobs", permission: "jobs.post", view: MyJobs },
  { path: "/jobs/:job", label: "orders.nav.job", permission: "jobs.post", view: JobScreen, nav: false },
  { path: "/scorecard", label: "scorecards.nav.ours", permission: ["jobs.bid", "loads.dispatch"], party: "carrier", view: OurScorecard },
  { path: "/carriers/:org/scorecard", label: "scorecards.nav.scorecard", permission: ["jobs.post", "jobs.bid", "loads.dispatch"], view: CarrierScorecard, nav: false },
  { path: "/sites", label: "sites.nav.sites", permission: "sites.manage", view: Sites },
  { path: "/sites/:site", label: "sites.nav.site", permission: "sites.manage", view: SiteView, nav: false },
  { path: "/sites/:site/appointments", label: "sites.nav.appointments", permission: ["sites.manage", "gate.operate"], view: AppointmentsScreen, nav: false },
  { path: "/gate", label: "console.nav.gate", permission: "gate.operate", view: Gate },
  { path: "/admin/members", label: "console.nav.members", permission: "org.manage_members", view: Members },
  { path: "/admin/roles", label: "console.nav.roles", permission: "org.manage_roles", view: Roles },
  { path: "/admin/api-tokens", label: "console.nav.api_tokens", permission: "org.manage_tokens", view: ApiTokens },
  { path: "/admin/device-tokens", label: "console.nav.device_tokens", permission: "fleet.manage", view: DeviceTokens },
  { path: "/integrations/webhooks", label: "integrations.nav.webhooks", permission: "webhooks.manage", view: Webhooks },
  { path: "/integrations/webhooks/:endpoint", label: "integrations.nav.endpoint", permission: "webhooks.manage", view: WebhookEndpoint, nav: false },
  { path: "/integrations/events", label: "integrations.nav.events", permission: "events.read", view: Events },
];

// `permission` may be a list: any one of them will do. `party`: only for an organization playing it.
const allowed = (me, screen) => [].concat(screen.permission).some((p) => me.permissions.includes(p))
  && (!screen.party || (me.organization.parties || []).includes(screen.party));
const currentPath = () => location.hash.replace(/^#/, "") || "/";
const inNavigation = (me) => SCREENS.filter((s) => s.nav !== false && allowed(me, s));

// "/jobs/:job" against "/jobs/5d1c…" → { job: "5d1c…" }; null when the path is not this screen's.
export function matchPath(pattern, path) {
  const want = pattern.split("/");
  const got = path.split("?")[0].split("/");
  if (want.length !== got.length) return null;
  const params = {};
  for (let i = 0; i < want.length; i++) {
    if (want[i].startsWith(":")) {
      if (!got[i]) return null;
      params[want[i].slice(1)] = decodeURIComponent(got[i]);
    } else if (want[i] !== got[i]) return null;
  }
  return params;
}

function findScreen(path) {
  for (const screen of SCREENS) {
    const params = matchPath(screen.path, path);
    if (params) return { screen, params };
  }
  return { screen: undefined, params: {} };
}

function useRoute() {
  const [path, setPath] = useState(currentPath());
  useEffect(() => {
    const follow = () => setPath(currentPath());
    addEventListener("hashchange", follow);
    return () => removeEventListener("hashchange", follow);
  }, []);
  return path;
}

function Home({ me }) {
  const screens = inNavigation(me);
  return html`<section aria-labelledby="home-title">
    <h2 id="home-title">${t("console.home.title", { name: me.name || me.email || "" })}</h2>
    <p>${t("console.home.organization", { organization: me.organization.name })}</p>
    ${screens.length
      ? html`<ul class="tiles">${screens.map((s) => html`<li key=${s.path}><a href=${`#${s.path}`}>${t(s.label)}</a></li>`)}</ul>`
      : html`<p id="nothing-yet">${t("console.home.nothing_yet")}</p>`}
    <p class="muted">${t("console.home.pages")}</p>
  </section>`;
}

function Shell({ me, onSignOut }) {
  const path = useRoute();
  const { screen, params } = findScreen(path);
  let body;
  if (path === "/") body = html`<${Home} me=${me} />`;
  // Everyone's own account: no permission needed.
  else if (path === "/account") body = html`<${Account} me=${me} />`;
  else if (!screen) body = html`<p role="alert">${t("console.not_found")}</p>`;
  else if (!allowed(me, screen)) body = html`<${Refusal} />`;
  else body = html`<${screen.view} key=${path} me=${me} params=${params} />`;
  useEffect(() => {
    const label = screen ? screen.label : path === "/account" ? "console.nav.account" : "console.title";
    document.title = `${t(label)} · ${me.organization.name}`;
  });
  return html`
    <header class="bar">
      <a class="brand" href="#/">${t("console.title")}</a>
      <span class="who" id="who">${me.name || me.email} · ${me.organization.name}</span>
      <a href="#/account" id="account-link" aria-current=${path === "/account" ? "page" : undefined}>${t("console.nav.account")}</a>
      <${LanguageSwitcher} />
      <button type="button" id="sign-out" onClick=${onSignOut}>${t("console.sign_out")}</button>
    </header>
    <div class="layout">
      <nav aria-label=${t("console.nav.label")} id="nav">
        <ul>
          <li><a href="#/" aria-current=${path === "/" ? "page" : undefined}>${t("console.nav.home")}</a></li>
          ${inNavigation(me).map((s) => html`<li key=${s.path}>
            <a href=${`#${s.path}`} aria-current=${path === s.path ? "page" : undefined}>${t(s.label)}</a></li>`)}
        </ul>
      </nav>
      <main id="screen">${body}</main>
    </div>`;
}

function App() {
  const [me, setMe] = useState(undefined); // undefined: not known yet; null: signed out
  const [, setLocale] = useState(i18n.locale);
  useEffect(() => i18n.onChange(setLocale), []);

  async function loadMe() {
    if (!session.token) { setMe(null); return; }
    try {
      const answer = await api("GET", "/me");
      await i18n.signedIn(answer, (locale) => api("PATCH", "/me", { locale }));
      setMe(answer);
    } catch (err) {
      session.clear();
      setMe(null);
    }
  }
  useEffect(() => { loadMe(); }, []);

  async function signOut() {
    try { await api("POST", "/auth/logout"); } catch (err) { /* already ended: signed out all the same */ }
    session.clear();
    setMe(null);
  }

  if (me === undefined) return html`<p class="muted">${t("console.loading")}</p>`;
  if (me === null) {
    return html`<header class="bar"><span class="brand">${t("console.title")}</span><${LanguageSwitcher} /></header>
      <main class="single"><${SignIn} onSignedIn=${loadMe} /></main>`;
  }
  return html`<${Shell} me=${me} onSignOut=${signOut} />`;
}

await i18n.start();
render(html`<${App} />`, document.getElementById("root"));
