// The tracking map: plain SVG in Web Mercator, fitted to both sites' geofences and the trails;
// background tiles are drawn only when the server is configured with a tile URL (GET /track/config).
// Positions are stored and sent in WGS-84; tiles in GCJ-02 (mainland China) get everything drawn
// shifted to their datum (datum.js, DispatchDatum) in fit(), the one place a position enters
// the map (view.project).
//
// The map owns its element's contents (Preact renders the empty wrapper and leaves it alone):
// `createMap(wrap)` builds the SVG layers; `map.draw({job, loads, config, names})` redraws them.
const SVG = "http://www.w3.org/2000/svg";
const TILE = 256;
const C_EARTH = 40075016.686; // metres around the equator: one unit of the normalized Mercator x
const i18n = window.DispatchI18n;
const t = (key, params) => i18n.t(key, params);

export function createMap(wrap) {
  wrap.innerHTML = `<svg id="map" xmlns="${SVG}" role="img">
      <g id="tiles"></g><g id="grid"></g><g id="geofences"></g><g id="trails"></g><g id="trucks"></g>
    </svg>
    <div id="scale" class="scale"><span></span></div>
    <div id="attribution" class="attribution" hidden></div>`;
  const svg = wrap.querySelector("#map");
  const layer = (id) => svg.querySelector(`#${id}`);
  let tilesKey = "";
  let latest = null;
  let pending = false;

  function schedule(scene) {
    latest = scene;
    if (pending) return;
    pending = true;
    const run = () => { pending = false; draw(latest); };
    if (document.hidden) setTimeout(run, 0); else requestAnimationFrame(run);
  }

  function draw(scene) {
    const { config } = scene;
    svg.setAttribute("aria-label", t("track.map_label"));
    const attribution = wrap.querySelector("#attribution");
    attribution.textContent = config.tiles_url ? config.attribution || "" : "";
    attribution.hidden = !attribution.textContent;
    const width = Math.max(1, svg.clientWidth), height = Math.max(1, svg.clientHeight);
    svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
    const view = fit(scene, width, height);
    const layers = ["grid", "geofences", "trails", "trucks"].map(layer);
    for (const l of layers) l.replaceChildren();
    if (!view) return;
    const [grid, geofences, trails, trucks] = layers;
    const xy = (lon, lat) => view.project(lon, lat).map((v) => v.toFixed(1)).join(",");
    drawTiles(view, config);
    if (!config.tiles_url) drawGraticule(view, grid);
    // A label beside a marker, on the side with room for it.
    const label = (parent, text, x, y, cls) => {
      const left = x > view.width - 220;
      const node = el("text", { class: cls, x: left ? -14 : 14, y: 5, "text-anchor": left ? "end" : "start" }, parent);
      node.textContent = text;
      return node;
    };
    const job = scene.job;
    const [origin, destination] = ["origin", "destination"].map((role) => {
      const site = job && job[role];
      return site ? lonLat(site.location) || centroid(site.geofence) : null;
    });
    // The planned route (dashed): the job's own when the poster gave one, else the straight line.
    const planned = job && job.route ? job.route : origin && destination ? [origin, destination] : [];
    if (planned.length) {
      el("path", {
        id: "planned-route", class: "planned", "data-points": planned.length,
        d: `M${planned.map(([lon, lat]) => xy(lon, lat)).join("L")}`,
      }, geofences);
    }

    for (const [role, site] of sites(job)) {
      const d = rings(site.geofence).map((ring) => `M${ring.map(([lon, lat]) => xy(lon, lat)).join("L")}Z`).join("");
      if (d) el("path", { id: `geofence-${role}`, class: `geofence ${role}`, d }, geofences);
      const at = lonLat(site.location) || centroid(site.geofence);
      if (!at) continue;
      const [x, y] = view.project(at[0], at[1]);
      const pin = el("g", { class: `site-pin ${role}`, transform: `translate(${x.toFixed(1)},${y.toFixed(1)})` }, geofences);
      el("circle", { class: `site ${role}`, r: 5 }, pin);
      label(pin, site.name || site.address || t(`track.site.${role}`), x, y, `site-label ${role}`).setAttribute("y", -14);
    }

    for (const load of scene.loads) {
      el("polyline", {
        id: `trail-${load.id}`, class: "trail", stroke: load.color, "data-points": load.trail.length,
        points: load.trail.map((p) => xy(p.lon, p.lat)).join(" "),
      }, trails);
      // Before the trip, the truck on its way to the pickup (the approach's newest fix).
      const onApproach = !load.trail.length && !load.last && approaching(load);
      const at = onApproach ? load.approach.last : load.trail.length ? load.trail[load.trail.length - 1] : load.last;
      if (!at) continue;
      const [x, y] = view.project(at.lon, at.lat);
      const [mapLon, mapLat] = view.toMap(at.lon, at.lat); // data-map-*: where it is drawn, in the tiles' datum
      const truck = el("g", {
        id: `truck-${load.id}`, class: `truck ${load.status || ""}`, "data-lon": at.lon, "data-lat": at.lat,
        "data-leg": onApproach ? "approach" : "trip",
        "data-map-lon": mapLon, "data-map-lat": mapLat,
        transform: `translate(${x.toFixed(1)},${y.toFixed(1)})`,
      }, trucks);
      el("circle", { class: "halo", r: 13, fill: load.color }, truck);
      el("circle", { class: "body", r: 8, fill: load.color }, truck);
      const heading = load.last && typeof load.last.heading_deg === "number" ? load.last.heading_deg : null;
      if (heading !== null && load.status !== "received" && load.status !== "arrived") {
        el("path", { class: "heading", d: "M0,-15 L5,-8 L-5,-8 Z", transform: `rotate(${heading})` }, truck);
      }
      const name = scene.name(load);
      label(truck, onApproach ? t("track.map.to_pickup", { name }) : name, x, y, "plate-label");
    }
    drawScale(view);
  }

  // XYZ tiles under the vector layers, rebuilt only when the view changes. A tile that fails to
  // load is removed; the geofences, trails and trucks do not depend on them.
  function drawTiles(view, config) {
    const tiles = layer("tiles");
    const template = config.tiles_url;
    if (!template) { tiles.replaceChildren(); tilesKey = ""; return; }
    const z = Math.max(0, Math.min(19, Math.round(Math.log2(view.scale / TILE))));
    const key = [template, z, view.ox, view.oy, view.scale, view.width, view.height].join(":");
    if (key === tilesKey) return;
    tilesKey = key;
    tiles.replaceChildren();
    const n = 2 ** z, size = view.scale / n;
    const i0 = Math.floor(view.ox * n), i1 = Math.floor((view.ox + view.width / view.scale) * n);
    const j0 = Math.max(0, Math.floor(view.oy * n)), j1 = Math.min(n - 1, Math.floor((view.oy + view.height / view.scale) * n));
    for (let j = j0; j <= j1; j += 1) {
      for (let i = i0; i <= i1; i += 1) {
        const x = ((i % n) + n) % n;
        const href = template.replaceAll("{z}", z).replaceAll("{x}", x).replaceAll("{y}", j)
          .replaceAll("{s}", "abc"[(x + j) % 3]).replaceAll("{r}", "");
        const image = el("image", {
          class: "tile", href, x: (i / n - view.ox) * view.scale, y: (j / n - view.oy) * view.scale,
          width: size + 0.5, height: size + 0.5, preserveAspectRatio: "none",
        }, tiles);
        image.addEventListener("error", () => image.remove());
      }
    }
  }

  function drawScale(view) {
    const bar = wrap.querySelector("#scale span");
    const y = view.oy + view.height / 2 / view.scale;
    const centerLat = Math.atan(Math.sinh(Math.PI * (1 - 2 * y))) * 180 / Math.PI;
    const metresPerPx = C_EARTH * Math.cos(centerLat * Math.PI / 180) / view.scale;
    const target = metresPerPx * 120;
    const power = 10 ** Math.floor(Math.log10(target));
    const nice = [5, 2, 1].map((m) => m * power).find((m) => m <= target) || power;
    bar.style.width = `${(nice / metresPerPx).toFixed(0)}px`;
    bar.textContent = nice >= 1000 ? t("common.unit.km", { value: i18n.number(nice / 1000) })
      : t("track.metres", { value: i18n.number(nice) });
  }

  const observer = new ResizeObserver(() => { if (latest) schedule(latest); });
  observer.observe(wrap);
  return { draw: schedule, stop: () => observer.disconnect() };
}

// Web Mercator, normalized: the world is the square [0, 1] x [0, 1], north up (as XYZ tiles).
function mercator(lon, lat) {
  const s = Math.sin(Math.max(-85.05113, Math.min(85.05113, lat)) * Math.PI / 180);
  return [(lon + 180) / 360, 0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI)];
}

function lonLat(location) {
  if (!location) return null;
  if (Array.isArray(location)) return location; // [lon, lat]
  if (location.type === "Point") return location.coordinates;
  return typeof location.lon === "number" ? [location.lon, location.lat] : null;
}

function rings(geometry) {
  if (!geometry || !geometry.coordinates) return [];
  if (geometry.type === "Polygon") return geometry.coordinates;
  if (geometry.type === "MultiPolygon") return geometry.coordinates.flat();
  return [];
}

function centroid(geometry) {
  const ring = rings(geometry)[0];
  if (!ring || !ring.length) return null;
  const n = ring.length;
  return [ring.reduce((s, p) => s + p[0], 0) / n, ring.reduce((s, p) => s + p[1], 0) / n];
}

function el(name, attrs, parent) {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (parent) parent.append(node);
  return node;
}

// On its way to the pickup, with a fix: not yet checked in at the gate.
function approaching(load) {
  return Boolean(load.approach && load.approach.last && ["assigned", "booked"].includes(load.status));
}

function sites(job) {
  return [["origin", job && job.origin], ["destination", job && job.destination]].filter(([, site]) => site);
}

// The view: a stored (WGS-84) position goes through the tiles' datum (GCJ-02 shifts positions
// inside China; the plain grid without tiles has none), then Mercator, then the fit.
function fit(scene, width, height) {
  // datum.js is a classic script: its `const DispatchDatum` is a global binding, not a window property.
  // eslint-disable-next-line no-undef
  const { toMap } = DispatchDatum.forTiles(scene.config.tiles_url ? scene.config.datum : "wgs84");
  const mapPoint = (lon, lat) => mercator(...toMap(lon, lat));
  let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
  const add = (lon, lat) => {
    const [x, y] = mapPoint(lon, lat);
    minX = Math.min(minX, x); maxX = Math.max(maxX, x); minY = Math.min(minY, y); maxY = Math.max(maxY, y);
  };
  for (const [, site] of sites(scene.job)) {
    for (const ring of rings(site.geofence)) for (const [lon, lat] of ring) add(lon, lat);
    const at = lonLat(site.location);
    if (at) add(at[0], at[1]);
  }
  for (const [lon, lat] of (scene.job && scene.job.route) || []) add(lon, lat);
  for (const load of scene.loads) {
    for (const p of load.trail) add(p.lon, p.lat);
    if (load.last) add(load.last.lon, load.last.lat);
    if (approaching(load)) add(load.approach.last.lon, load.approach.last.lat);
  }
  if (minX === Infinity) return null;
  const minSpan = 2e-5; // about 800 m: never zoom in closer than that
  if (maxX - minX < minSpan) { const c = (minX + maxX) / 2; minX = c - minSpan / 2; maxX = c + minSpan / 2; }
  if (maxY - minY < minSpan) { const c = (minY + maxY) / 2; minY = c - minSpan / 2; maxY = c + minSpan / 2; }
  const margin = Math.min(48, Math.min(width, height) / 6);
  const scale = Math.min((width - 2 * margin) / (maxX - minX), (height - 2 * margin) / (maxY - minY));
  const ox = (minX + maxX) / 2 - width / 2 / scale;
  const oy = (minY + maxY) / 2 - height / 2 / scale;
  const project = (lon, lat) => {
    const [x, y] = mapPoint(lon, lat);
    return [(x - ox) * scale, (y - oy) * scale];
  };
  return { width, height, scale, ox, oy, project, toMap };
}

// Faint meridians and parallels at a round step, for a sense of place when there are no tiles.
function drawGraticule(view, layer) {
  const west = view.ox * 360 - 180, east = (view.ox + view.width / view.scale) * 360 - 180;
  const lat = (y) => Math.atan(Math.sinh(Math.PI * (1 - 2 * y))) * 180 / Math.PI;
  const north = lat(view.oy), south = lat(view.oy + view.height / view.scale);
  const span = Math.max(east - west, 1e-6);
  const step = [10, 5, 2, 1, 0.5, 0.2, 0.1, 0.05, 0.02, 0.01, 0.005, 0.002, 0.001].find((s) => span / s >= 4) || 0.001;
  let d = "";
  for (let lon = Math.ceil(west / step) * step; lon <= east; lon += step) {
    const [x] = view.project(lon, 0);
    d += `M${x.toFixed(1)},0V${view.height}`;
  }
  for (let la = Math.ceil(south / step) * step; la <= north; la += step) {
    const [, y] = view.project(0, la);
    d += `M0,${y.toFixed(1)}H${view.width}`;
  }
  el("path", { class: "graticule", d }, layer);
}
