// The front door (`/`): a sign-in that takes each person to their console, the pages for those who
// watch, the driver app, and the API's documents for integrators.
import { html, render, useEffect, useState } from "../vendor/htm-3.1.1/standalone.module.js";
import { session } from "./api.js";
import { LanguageSwitcher, SignIn } from "./signin.js";
import { t } from "./ui.js";

const i18n = window.DispatchI18n;

function Front() {
  const [, setLocale] = useState(i18n.locale);
  useEffect(() => i18n.onChange(setLocale), []);
  useEffect(() => { document.title = t("console.front.title"); });
  return html`
    <header class="bar"><span class="brand">${t("console.front.title")}</span><${LanguageSwitcher} /></header>
    <main class="front">
      <p class="lead">${t("console.front.lead")}</p>
      ${session.token
        ? html`<section class="panel"><a class="button" href="/console" id="open-console">${t("console.front.open_console")}</a></section>`
        : html`<${SignIn} onSignedIn=${() => { location.href = "/console"; }} />`}
      <section class="panel" aria-labelledby="watch-title">
        <h2 id="watch-title">${t("console.front.watch")}</h2>
        <ul>
          <li><a href="/board/jobs" id="link-job-board">${t("console.front.job_board")}</a></li>
          <li>${t("console.front.gate_and_tracking")}</li>
        </ul>
      </section>
      <section class="panel" aria-labelledby="drivers-title">
        <h2 id="drivers-title">${t("console.front.drivers")}</h2>
        <p><a href="/app" id="link-driver-app">${t("console.front.driver_app")}</a></p>
      </section>
      <section class="panel" aria-labelledby="api-title">
        <h2 id="api-title">${t("console.front.integrators")}</h2>
        <ul>
          <li><a href="/schema/swagger" id="link-swagger">${t("console.front.api_docs")}</a></li>
          <li><a href="/schema/openapi.json" id="link-openapi">${t("console.front.openapi")}</a></li>
        </ul>
      </section>
    </main>`;
}

await i18n.start();
render(html`<${Front} />`, document.getElementById("root"));
