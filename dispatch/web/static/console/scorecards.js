// Carrier scorecards (dispatch/scorecards): a carrier's figures over a period, overall or on one lane,
// and its lanes (#/carriers/:org/scorecard; "Our scorecard" at #/scorecard for a carrier), and the
// key figures shown beside a bid (BidderFigures). Every figure is "n of m" with its share, never a
// bare percentage; "no data" when nothing was counted. A carrier the API does not show this
// organization (404) is "not found".
import { html, useState } from "../vendor/htm-3.1.1/standalone.module.js";
import { api } from "./api.js";
import { Field, Select, Status, t, useLoad } from "./ui.js";

const i18n = window.DispatchI18n;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// The order the figures are shown in; award_cancelled is the poster's doing, shown last and apart.
const FIGURES = ["tender_acceptance", "slot_on_time", "no_shows", "delivery_on_time", "receipt_discrepancies", "given_back", "award_cancelled"];
// Beside a bid: the few a poster weighs first.
const KEY_FIGURES = ["delivery_on_time", "no_shows", "given_back"];

export const scorecardPath = (org) => `#/carriers/${org}/scorecard`;

export function figureText(f) {
  if (!f.denominator) return t("scorecards.no_data");
  return t("scorecards.count", { numerator: f.numerator, denominator: f.denominator, percent: i18n.number(100 * f.rate) });
}

function laneName(lane) {
  const to = lane.destination_name
    || t("scorecards.area", { lat: i18n.number(lane.destination_area.lat, 1), lon: i18n.number(lane.destination_area.lon, 1) });
  return t("scorecards.lane_name", { from: lane.origin_name, to });
}

function FigureTable({ figures, id }) {
  return html`<table class="list figures" id=${id}><thead><tr>
      <th scope="col">${t("scorecards.figure")}</th><th scope="col">${t("scorecards.value")}</th></tr></thead>
    <tbody>${FIGURES.map((name) => html`<tr key=${name} data-figure=${name}>
      <th scope="row">${t(`scorecards.figure.${name}`)}<div class="muted">${t(`scorecards.rule.${name}`)}</div></th>
      <td class="value" data-numerator=${figures[name].numerator} data-denominator=${figures[name].denominator}>
        ${figureText(figures[name])}</td></tr>`)}</tbody></table>`;
}

function Lanes({ lanes, onChoose }) {
  if (lanes.length === 0) return html`<p id="no-lanes">${t("scorecards.lanes.none")}</p>`;
  return html`<table class="list" id="lane-list"><thead><tr>
      <th scope="col">${t("scorecards.lanes.lane")}</th>
      ${KEY_FIGURES.map((name) => html`<th scope="col" key=${name}>${t(`scorecards.figure.${name}`)}</th>`)}
      <th scope="col">${t("console.actions")}</th></tr></thead>
    <tbody>${lanes.map((x) => html`<tr key=${x.lane.key} data-lane=${x.lane.key}>
      <th scope="row">${laneName(x.lane)}</th>
      ${KEY_FIGURES.map((name) => html`<td key=${name}>${figureText(x.figures[name])}</td>`)}
      <td class="actions"><button type="button" onClick=${() => onChoose(x.lane.key)}>
        ${t("scorecards.lanes.show", { lane: laneName(x.lane) })}</button></td></tr>`)}</tbody></table>`;
}

function Scorecard({ org, own }) {
  const [query, setQuery] = useState({ days: 90, lane: "" });
  const [days, setDays] = useState("90");
  const [lane, setLane] = useState("");
  const [error, setError] = useState(null);
  const params = (q) => `days=${q.days}${q.lane ? `&lane=${encodeURIComponent(q.lane)}` : ""}`;
  const card = useLoad(() => api("GET", `/carriers/${org}/scorecard?${params(query)}`), [org, query.days, query.lane]);
  const lanes = useLoad(() => api("GET", `/carriers/${org}/scorecard/lanes?days=${query.days}`), [org, query.days]);
  if (card.error && card.error.status === 404 && !card.data && !query.lane) {
    return html`<section class="refusal" role="alert" id="scorecard-not-found">
      <h2>${t("scorecards.not_found.title")}</h2><p>${t("scorecards.not_found.text")}</p></section>`;
  }
  function show(event) {
    event.preventDefault();
    const n = Number(days);
    if (!Number.isInteger(n) || n < 1 || n > 365) { setError({ days: t("scorecards.days_range") }); return; }
    setError(null);
    setQuery({ days: n, lane });
  }
  function choose(key) {
    setLane(key);
    setQuery({ ...query, lane: key });
  }
  const data = card.data;
  const title = own ? t("scorecards.title_own") : t("scorecards.title", { carrier: data ? data.carrier_name : "" });
  return html`<section id="scorecard" aria-labelledby="scorecard-title" data-org=${org}>
    <h2 id="scorecard-title">${title}</h2>
    <form class="panel" id="scorecard-query" onSubmit=${show}>
      <${Field} name="days" type="number" label=${t("scorecards.days")} value=${days} onInput=${setDays}
        error=${error && error.days} />
      <${Select} name="lane" label=${t("scorecards.lane")} value=${lane} onChange=${setLane}
        blank=${t("scorecards.all_lanes")}
        options=${(lanes.data || []).map((x) => ({ value: x.lane.key, label: laneName(x.lane) }))} />
      <button type="submit">${t("scorecards.show")}</button>
    </form>
    <div class="panel" aria-live="polite">
      <${Status} state=${card} />
      ${data && html`<p id="scorecard-scope">${data.lane
        ? t("scorecards.scope_lane", { lane: laneName(data.lane), days: data.days, since: i18n.date(data.since) })
        : t("scorecards.scope_all", { days: data.days, since: i18n.date(data.since) })}</p>
        <${FigureTable} figures=${data.figures} id="scorecard-figures" />
        <p id="scorecard-score">${t("scorecards.score", { score: i18n.number(data.score, 2) })}</p>
        <p class="muted">${t("scorecards.score_rule")}</p>`}
    </div>
    <section class="panel" aria-labelledby="lanes-title">
      <h3 id="lanes-title">${t("scorecards.lanes.title")}</h3>
      <${Status} state=${lanes} />
      ${lanes.data && html`<${Lanes} lanes=${lanes.data} onChoose=${choose} />`}
    </section>
  </section>`;
}

export function CarrierScorecard({ me, params }) {
  if (!UUID.test(params.org)) {
    return html`<section class="refusal" role="alert" id="scorecard-not-found">
      <h2>${t("scorecards.not_found.title")}</h2><p>${t("scorecards.not_found.text")}</p></section>`;
  }
  return html`<${Scorecard} org=${params.org} own=${params.org === me.organization.id} />`;
}

export function OurScorecard({ me }) {
  return html`<${Scorecard} org=${me.organization.id} own=${true} />`;
}

// Beside a bid: the bidder's key figures and a link to its scorecard. Loaded once per bidder.
export function BidderFigures({ carrier }) {
  const card = useLoad(() => api("GET", `/carriers/${carrier}/scorecard`), [carrier]);
  if (card.error) return html`<span class="muted">–</span>`;
  if (!card.data) return html`<span class="muted">${t("console.loading")}</span>`;
  const f = card.data.figures;
  return html`<div class="bidder" data-carrier=${carrier}>
    <div class="bidder-name">${card.data.carrier_name}</div>
    <ul class="key-figures">${KEY_FIGURES.map((name) => html`<li key=${name} data-figure=${name}>
      ${t(`scorecards.figure.${name}`)}: ${figureText(f[name])}</li>`)}</ul>
    <a href=${scorecardPath(carrier)}>${t("scorecards.bid.link", { carrier: card.data.carrier_name })}</a>
  </div>`;
}
