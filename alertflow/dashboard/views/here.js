// "Where I am": the device's position picks the person's area on the device, in the outlines
// the map already has (geo.js); the position never leaves the page. Only the area (and, when
// asked, its neighbours) joins my areas, so the subscription and the push subscription follow
// the person like any area picked by hand; it replaces the area located before, and areas picked
// by hand stay. A position no person could have (abroad, a jump faster than any car, a coarse
// guess) is ignored with a note, and the last good area stays.

import { $, h, icon } from "../dom.js";
import { judgeFix } from "../geo.js";
import { KEYS, areaName, state, store, t } from "../state.js";

const WATCH = { enableHighAccuracy: true, maximumAge: 15000, timeout: 60000 };
const RADII = [0, 1000, 3000, 5000, 10000]; // "nearby areas too", metres; off by default

let index = null; // AreaIndex of the outlines, once v1/locations/regions.json is in
let onChange = () => {};
let watchId = null;
let last = null; // the last believable fix {lat, lng, accuracy, at}: in memory only
let lastGood = null; // the last fix that located an area, to redo "nearby" when it changes
let waiting = null; // a fix that came before the outlines
let note = null; // {key, params, warn, reason}

const here = () => state.prefs.here;

function names(ids) {
  return ids.map((id) => areaName(id)).join(t("list.separator"));
}

function setNote(key, params = {}, warn = false, reason = "") {
  note = { key, params, warn, reason };
  renderHere();
}

function located(areas, at) {
  const mine = here();
  const changed = areas.length !== mine.areas.length || areas.some((id, i) => id !== mine.areas[i]);
  mine.areas = areas;
  mine.at = at;
  if (changed) onChange(); // stores, re-subscribes, re-registers push (app.js prefsChanged)
  else store(KEYS.areas, state.prefs);
}

function onFix(position) {
  if (!here().on) return;
  const { latitude, longitude, accuracy } = position.coords;
  const at = Number.isFinite(position.timestamp) && position.timestamp > 0 ? position.timestamp : Date.now();
  const fix = { lat: latitude, lng: longitude, accuracy, at };
  if (!index) {
    waiting = position;
    return setNote("here.finding");
  }
  const mine = here();
  const verdict = judgeFix(index, { last, areas: mine.areas, areasAt: mine.at }, fix, mine.radius);
  if (verdict.believable) last = fix;
  if (!verdict.ok) {
    const round = (v) => (v >= 10 ? Math.round(v) : Math.round(v * 10) / 10);
    return setNote(`here.ignored_${verdict.reason}`, { km: round(verdict.km ?? 0), s: Math.max(1, Math.round(verdict.seconds ?? 0)) }, true, verdict.reason);
  }
  lastGood = fix;
  located(verdict.areas, at);
  setNote("here.in", {}, false, "in");
}

function onError(err) {
  if (err.code === 1) {
    // PERMISSION_DENIED: nothing will come; the located areas go, the hand-picked stay.
    stop();
    return setNote("here.denied", {}, true, "denied");
  }
  setNote("here.unavailable", {}, true, "unavailable");
}

function watch() {
  if (watchId !== null) return;
  watchId = navigator.geolocation.watchPosition(onFix, onError, WATCH);
  if (!note || note.reason !== "in") setNote("here.finding");
}

function start() {
  if (!("geolocation" in navigator)) return setNote("here.unsupported", {}, true, "unsupported");
  here().on = true;
  last = null;
  store(KEYS.areas, state.prefs);
  watch();
}

function stop() {
  if (watchId !== null) navigator.geolocation.clearWatch(watchId);
  watchId = null;
  last = lastGood = waiting = null;
  note = null;
  const mine = here();
  const had = mine.areas.length;
  Object.assign(mine, { on: false, areas: [], at: 0 });
  if (had) onChange();
  else store(KEYS.areas, state.prefs);
  renderHere();
}

/** Stop following the position (the × on a located area's chip). */
export function stopHere() {
  stop();
}

/** The outlines arrived (map-panel.js): a fix that came first is judged now. */
export function setHereIndex(areaIndex) {
  index = areaIndex;
  if (waiting) {
    const position = waiting;
    waiting = null;
    onFix(position);
  }
}

export function renderHere() {
  const button = $("#here-toggle");
  if (!button) return;
  const on = here().on;
  button.setAttribute("aria-pressed", on ? "true" : "false");
  button.classList.toggle("is-on", on);
  button.querySelector(".btn-label").textContent = t("here.use");
  const radius = $("#here-radius");
  for (const option of radius.options) {
    const m = Number(option.value);
    option.textContent = m ? t("here.km", { n: m / 1000 }) : t("here.radius_off");
  }
  radius.value = String(here().radius);
  const status = $("#here-status");
  let text = "";
  if (note) {
    const { areas } = here();
    const kept = note.warn && note.reason !== "denied" && note.reason !== "unsupported";
    const params = { ...note.params, names: names(areas) };
    text = t(note.key, params);
    if (kept) text += ` ${areas.length ? t("here.kept", params) : t("here.none")}`;
  } else if (on) text = t("here.paused");
  status.textContent = text;
  status.dataset.reason = note?.reason ?? "";
  status.classList.toggle("is-warning", Boolean(note?.warn));
  status.hidden = !text;
}

export function initHere(onHereChanged) {
  onChange = onHereChanged;
  const button = $("#here-toggle");
  button.prepend(icon("here"));
  button.addEventListener("click", () => (here().on ? stop() : start()));
  const radius = $("#here-radius");
  radius.replaceChildren(...RADII.map((m) => h("option", "", String(m))));
  for (const [i, option] of [...radius.options].entries()) option.value = String(RADII[i]);
  radius.addEventListener("change", () => {
    here().radius = Number(radius.value) || 0;
    // Redo the located areas from the last position that found one.
    if (lastGood && index) {
      const verdict = judgeFix(index, { last: null }, lastGood, here().radius);
      if (verdict.ok) return located(verdict.areas, lastGood.at);
    }
    store(KEYS.areas, state.prefs);
  });
  renderHere();
  // Following was on when the page closed: go on without asking again, if the browser still
  // allows it; otherwise wait for a press (a prompt nobody asked for is refused by habit).
  if (here().on && "geolocation" in navigator) {
    const resume = (permission) => {
      if (permission === "granted") watch();
      else renderHere();
    };
    if (navigator.permissions?.query) {
      navigator.permissions.query({ name: "geolocation" }).then((p) => resume(p.state), () => resume("prompt"));
    } else resume("prompt");
  }
}
