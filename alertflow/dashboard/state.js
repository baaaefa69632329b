// The page's state: what the server said (the protocol model), the catalogue, the user's
// preferences (kept in localStorage) and the connection's state. Views read it; only the
// protocol reducer, the connection and the user's actions change it.

import { detectLanguage, t as translate } from "./i18n.js";
import { createModel } from "./protocol.js";

export const KEYS = {
  lang: "alertflow.lang",
  areas: "alertflow.myAreas",
  sound: "alertflow.sound",
  notify: "alertflow.notify",
  view: "alertflow.view",
};

export function load(key, fallback) {
  try {
    const raw = localStorage.getItem(key);
    return raw === null ? fallback : JSON.parse(raw);
  } catch {
    return fallback;
  }
}

export function store(key, value) {
  try {
    localStorage.setItem(key, JSON.stringify(value));
  } catch {
    // Private mode or full storage: the page still works, it just forgets on reload.
  }
}

function loadPrefs() {
  const raw = load(KEYS.areas, {});
  const list = (v) => (Array.isArray(v) ? v.filter((x) => typeof x === "string") : []);
  const here = raw?.here && typeof raw.here === "object" ? raw.here : {};
  return {
    mode: raw?.mode === "mine" ? "mine" : "all",
    locations: list(raw?.locations),
    zones: list(raw?.zones),
    // "Where I am" (views/here.js): following on or off, the areas it located and when, and
    // the distance (m) around the position whose areas join too. Never the position itself.
    here: {
      on: here.on === true,
      areas: list(here.areas),
      at: Number.isFinite(here.at) ? here.at : 0,
      radius: Number.isFinite(here.radius) && here.radius > 0 ? here.radius : 0,
    },
  };
}

export const state = {
  lang: detectLanguage([load(KEYS.lang, null), ...(navigator.languages ?? [navigator.language])].filter(Boolean)),
  catalog: new Map(), // area id -> {id, name{}, zone{}, zoneId, shelter_seconds, lat, lng}
  successors: new Map(), // a normalised name an older list used -> today's area ids
  countryNames: new Set(), // normalised names of the whole country ("ברחבי הארץ", …)
  zones: new Map(), // zone id -> {id, names{}, areas: [ids]}
  searchIndex: [],
  model: createModel(), // what the server said: active incidents, position, history
  prefs: loadPrefs(),
  serverSub: null, // the subscription the server holds for this connection
  pendingSub: null, // what the last `auth` asked for
  subError: null,
  conn: {
    state: "connecting",
    missed: 0,
    attempt: 0,
    everConnected: false,
    sentSince: false,
    awaitingReplay: false,
    replayTimer: null,
    manualDelay: 1000,
  },
  skewMs: 0, // browser clock minus server clock, when clearly wrong
  banner: { dismissedAt: 0, clear: null },
};

export const t = (key, params) => translate(state.lang, key, params);

/** Now on the server's clock (the browser's, corrected when it is clearly off). */
export function serverNow() {
  return Date.now() - state.skewMs;
}

export function areaName(id, names) {
  const area = state.catalog.get(id);
  const l = state.lang;
  return names?.[l] || area?.name?.[l] || names?.he || area?.name?.he || id;
}

export function zoneName(zoneId, zoneNames) {
  const l = state.lang;
  const zone = state.zones.get(zoneId);
  return zoneNames?.[l] || zone?.names?.[l] || zoneNames?.he || zoneId || "";
}

export function zoneOf(location, fallback) {
  return fallback ?? state.catalog.get(location)?.zoneId ?? null;
}
