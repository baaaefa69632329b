// alertflow live dashboard: the entry point that wires the modules together.
//
//   state.js       the page's state (protocol model, catalogue, preferences, connection)
//   protocol.js    the notifier's protocol as a pure reducer (unit-tested with node --test)
//   guidance.js    what to do per category of danger, in four languages
//   connection.js  the Socket.IO connection, resume and subscription changes
//   reactions.js   announcements, sounds and notifications
//   catalog.js     the area catalogue and its search
//   geo.js         the areas' outlines: which area holds a point ("where I am", on the device)
//   views/         active list, banner, history, my areas, map, header controls
//
// Every URL is relative to the page, so the dashboard also works behind a path prefix.

import { migrateSaved, mineAreaIds, setCatalog } from "./catalog.js";
import { connect, renderConn, setConn, syncSubscription } from "./connection.js";
import { $ } from "./dom.js";
import { applyAck, applyAlerts, applySnapshot, effectiveSub, hasMine, isMine } from "./protocol.js";
import { initPush, pushPrefsChanged, renderPush } from "./push.js";
import { announceSnapshot, react } from "./reactions.js";
import { KEYS, serverNow, state, store, t, zoneOf } from "./state.js";
import { initActive, invalidateRows, renderActive, tickActive } from "./views/active.js";
import { initBanner, renderBanner, tickBanner } from "./views/banner.js";
import { initControls, renderNotify, renderSound, translatePage } from "./views/controls.js";
import { initHistory, loadHistory, renderHistory, renderHistoryAppend } from "./views/history.js";
import { loadBackdrop, map, initMapPanel, renderZoneLabels, syncMapArea } from "./views/map-panel.js";
import { initHere, renderHere, setHereIndex } from "./views/here.js";
import { initMine, renderMine, renderResults, resultsOpen, toggleLocation } from "./views/mine.js";

// ------------------------------------------------------------------------------------------
// Protocol events -> model -> views
// ------------------------------------------------------------------------------------------

function onSnapshot(snap) {
  const result = applySnapshot(state.model, snap, state.catalog, Date.now());
  if (!result) {
    console.warn("alertflow: ignoring a malformed snapshot", snap);
    return;
  }
  for (const location of result.gone) syncMapArea(location);
  for (const location of state.model.active.keys()) syncMapArea(location);
  // On load (or resync) my areas may already be under alert: say so, the banner alone is silent.
  announceSnapshot(result.added);
  setConn(result.resync ? "resynced" : "live");
  renderActive();
  renderBanner();
  // The stream was rebuilt (resync, or Redis lost its data): the server's history is the truth.
  if (result.resync || result.epochChanged) loadHistory();
}

function onAck(ack) {
  const sub = state.serverSub ?? effectiveSub(state.prefs);
  const gone = applyAck(state.model, ack, sub, state.catalog, Date.now());
  for (const location of gone) syncMapArea(location);
  for (const location of state.model.active.keys()) syncMapArea(location);
  renderActive();
  renderBanner();
  renderHistory();
}

/** An `alerts` batch; returns how many new events it carried (for "resumed, n missed"). */
function onAlerts(batch, replay) {
  const { applied, live } = applyAlerts(state.model, batch, state.catalog, Date.now());
  if (!replay) for (const ev of live) sampleSkew(ev);
  for (const ev of live) syncMapArea(ev.location, ev.reason);
  renderActive();
  renderHistoryAppend(applied);
  react(live, replay);
  renderBanner();
  return applied.length;
}

// ------------------------------------------------------------------------------------------
// Clock skew: countdowns compare server times with the browser's clock.
// ------------------------------------------------------------------------------------------

const skew = { fromDate: 0, samples: [] };

function skewFromResponse(res) {
  const date = Date.parse(res.headers.get("date") ?? "");
  if (!Number.isFinite(date)) return;
  // The Date header has 1 s resolution: only a clearly wrong clock is corrected.
  const d = Date.now() - date;
  skew.fromDate = d > 3000 || d < -2000 ? d - 500 : 0;
  updateSkew();
}

function sampleSkew(ev) {
  if (ev.kind !== "open" || typeof ev.received_at !== "number") return;
  skew.samples.push(Date.now() - ev.received_at);
  if (skew.samples.length > 20) skew.samples.shift();
  updateSkew();
}

function updateSkew() {
  // An event that seems to come from the future proves the browser clock is behind; a late
  // one proves nothing (the pipeline may be slow), so only negative samples are used.
  const min = skew.samples.length ? Math.min(...skew.samples) : 0;
  state.skewMs = min < -2000 ? min : skew.fromDate;
}

// ------------------------------------------------------------------------------------------
// Catalogue
// ------------------------------------------------------------------------------------------

/** Other names for the catalogue's places; the search works without them if they fail. */
async function loadAliases() {
  try {
    const res = await fetch("v1/aliases", { cache: "no-cache" });
    return res.ok ? (await res.json()).aliases ?? {} : {};
  } catch {
    return {};
  }
}

async function loadCatalog() {
  for (let attempt = 0; ; attempt++) {
    try {
      const res = await fetch("v1/locations", { cache: "no-cache" });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      skewFromResponse(res);
      const data = await res.json();
      setCatalog(Array.isArray(data) ? data : data.locations ?? [], await loadAliases());
      map.setAreas([...state.catalog.values()]);
      map.setMine(mineAreaIds());
      renderZoneLabels();
      $("#map-status")?.remove();
      $("#catalogue-size").textContent = t("footer.catalogue", { n: state.catalog.size });
      // Names, zones and shelter times for incidents that arrived before the catalogue.
      for (const [location, incident] of state.model.active) {
        const area = state.catalog.get(location);
        if (area) Object.assign(incident, { known: true, names: incident.names ?? area.name, zone: incident.zone ?? area.zoneId, zone_names: incident.zone_names ?? area.zone, shelter_seconds: incident.shelter_seconds ?? area.shelter_seconds });
      }
      invalidateRows();
      // My areas saved under an older catalogue's ids follow their successors (and so do the
      // subscription and the push subscription).
      if (migrateSaved(state.prefs)) prefsChanged();
      renderActive();
      renderMine();
      renderHere();
      return;
    } catch (err) {
      console.warn("alertflow: catalogue not loaded", err?.message);
      const status = $("#map-status");
      if (status) {
        status.dataset.i18n = "map.error";
        status.textContent = t("map.error");
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(30000, 2000 * 2 ** attempt)));
    }
  }
}

// ------------------------------------------------------------------------------------------
// The user's choices
// ------------------------------------------------------------------------------------------

function prefsChanged() {
  store(KEYS.areas, state.prefs);
  map.setMine(mineAreaIds());
  state.subError = null;
  invalidateRows();
  renderMine();
  renderActive();
  renderBanner();
  renderHistory();
  syncSubscription();
  pushPrefsChanged();
  if (hasMine(state.prefs)) loadHistory();
}

function applyLanguage() {
  translatePage();
  invalidateRows();
  renderConn();
  renderSound();
  renderNotify();
  renderActive();
  renderBanner();
  renderHistory();
  renderMine();
  renderHere();
  renderPush();
  pushPrefsChanged();
  if (resultsOpen()) renderResults();
  if (state.catalog.size) renderZoneLabels();
  map.refresh();
}

// ------------------------------------------------------------------------------------------
// Clock and start
// ------------------------------------------------------------------------------------------

function tick() {
  tickActive(serverNow());
  tickBanner();
}

// Sections reached by a link scroll to just below the sticky dock, whatever its height.
new ResizeObserver(([entry]) => {
  document.documentElement.style.setProperty("--dock-h", `${Math.ceil(entry.target.getBoundingClientRect().height)}px`);
}).observe($("#dock"));

state.model.keepAlso = (ev) => hasMine(state.prefs) && isMine(state.prefs, ev.location, zoneOf(ev.location, ev.zone));
initActive();
initMapPanel(toggleLocation);
initMine(prefsChanged);
initHere(prefsChanged);
initBanner();
initHistory();
initControls(applyLanguage);
applyLanguage();
const socket = connect({ snapshot: onSnapshot, alerts: onAlerts, ack: onAck, subscriptionChanged: renderMine });
loadCatalog();
loadBackdrop(setHereIndex);
loadHistory();
initPush();
setInterval(tick, 250);
document.addEventListener("visibilitychange", () => {
  if (!document.hidden) tick();
});

// A handle for debugging from the console (and for tests to inspect); not an API.
window.alertflow = Object.freeze({
  get state() {
    return state;
  },
  socket,
  map,
});
