// alertflow live dashboard.
//
// Talks to the notifier exactly as docs/protocol.md describes:
//   - Socket.IO over WebSocket; `auth` is a function so every reconnect sends the position
//     reached ({since, epoch}) and the user's areas ({locations, zones});
//   - `snapshot` replaces the active set; `alerts` (an array, in seq order) updates it;
//   - `subscribe`/`unsubscribe` change the server-side rooms, acknowledged with a snapshot;
//   - GET v1/locations for the catalogue (map, names, search), GET v1/events for history.
// Every URL is relative to the page, so the dashboard also works behind a path prefix.

import { LANGUAGES, t as translate, detectLanguage, typeLabel, isEarlyType } from "./i18n.js";
import { AreaMap } from "./map.js";
import { Sounds } from "./sound.js";

const KEYS = {
  lang: "alertflow.lang",
  areas: "alertflow.myAreas",
  sound: "alertflow.sound",
  notify: "alertflow.notify",
};
const HISTORY_LIMIT = 300; // rows kept in the history list
const ROW_FADE_MS = 1200; // a closed row fades for this long, then goes
const REPLAY_WAIT_MS = 2000; // after a resume, how long the first `alerts` counts as the replay
const BANNER_CLEAR_MS = 30000; // how long the green all-clear banner stays
const RECENT_CLEAR_MS = 60000; // an all-clear older than this is history, not news

const $ = (selector) => document.querySelector(selector);

// ------------------------------------------------------------------------------------------
// State
// ------------------------------------------------------------------------------------------

function load(key, fallback) {
  try {
    const raw = localStorage.getItem(key);
    return raw === null ? fallback : JSON.parse(raw);
  } catch {
    return fallback;
  }
}

function store(key, value) {
  try {
    localStorage.setItem(key, JSON.stringify(value));
  } catch {
    // Private mode or full storage: the page still works, it just forgets on reload.
  }
}

function loadPrefs() {
  const raw = load(KEYS.areas, {});
  const list = (v) => (Array.isArray(v) ? v.filter((x) => typeof x === "string") : []);
  return {
    mode: raw?.mode === "mine" ? "mine" : "all",
    locations: list(raw?.locations),
    zones: list(raw?.zones),
  };
}

const state = {
  lang: detectLanguage([load(KEYS.lang, null), ...(navigator.languages ?? [navigator.language])].filter(Boolean)),
  catalog: new Map(), // area id -> {id, name{}, zone{}, zoneId, shelter_seconds, lat, lng}
  zones: new Map(), // zone id -> {id, names{}, areas: [ids]}
  searchIndex: [],
  active: new Map(), // location -> incident (see toIncident)
  closedReason: new Map(), // location -> reason of the close whose row is fading
  epoch: null, // epoch of the last snapshot
  lastSeq: null, // position of the last event or snapshot applied
  history: [],
  historyKeys: new Set(),
  prefs: loadPrefs(),
  serverSub: null, // what the server holds for this connection
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

const t = (key, params) => translate(state.lang, key, params);
const sounds = new Sounds();

/** Now on the server's clock (the browser's, corrected when it is clearly off). */
function serverNow() {
  return Date.now() - state.skewMs;
}

// ------------------------------------------------------------------------------------------
// Small helpers
// ------------------------------------------------------------------------------------------

/** Compare two stream positions: integers, or Redis stream ids ("ms-n") should a server send them. */
function seqCmp(a, b) {
  if (typeof a === "number" && typeof b === "number") return a - b;
  const pa = String(a).split("-").map(Number);
  const pb = String(b).split("-").map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (Number.isNaN(d)) return String(a).localeCompare(String(b));
    if (d) return d;
  }
  return 0;
}

/** m:ss (or h:mm:ss). Countdowns round up so "0:00" only shows when the time is really up. */
function formatDuration(ms, roundUp = false) {
  const total = Math.max(0, roundUp ? Math.ceil(ms / 1000) : Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

const timeFormats = {};
const formattedTimes = new Map(); // a barrage shares a handful of timestamps: format each once

function formatTime(ms) {
  const locale = LANGUAGES[state.lang].locale;
  const d = new Date(ms);
  const today = new Date().toDateString() === d.toDateString();
  const key = `${locale}:${today}`;
  const memo = `${key}:${Math.floor(ms / 1000)}`;
  let text = formattedTimes.get(memo);
  if (text === undefined) {
    timeFormats[key] ??= new Intl.DateTimeFormat(locale, {
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
      hourCycle: "h23",
      ...(today ? {} : { day: "numeric", month: "short" }),
    });
    text = timeFormats[key].format(d);
    if (formattedTimes.size > 2000) formattedTimes.clear();
    formattedTimes.set(memo, text);
  }
  return text;
}

function areaName(id, names) {
  const area = state.catalog.get(id);
  const l = state.lang;
  return names?.[l] || area?.name?.[l] || names?.he || area?.name?.he || id;
}

function zoneName(zoneId, zoneNames) {
  const l = state.lang;
  const zone = state.zones.get(zoneId);
  return zoneNames?.[l] || zone?.names?.[l] || zoneNames?.he || zoneId || "";
}

function zoneOf(location, fallback) {
  return fallback ?? state.catalog.get(location)?.zoneId ?? null;
}

function isEarly(incident) {
  return incident.types.size > 0 && [...incident.types].every(isEarlyType);
}

function incidentKind(incident) {
  return isEarly(incident) ? "early" : "alert";
}

/** The label of an incident's type: the latest type that is not an early warning, if any. */
function incidentType(incident) {
  if (incident.type && !isEarlyType(incident.type)) return incident.type;
  return [...incident.types].reverse().find((ty) => !isEarlyType(ty)) ?? incident.type;
}

const ICONS = {
  alert:
    '<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="M12 2.5 L22.5 21 H1.5 Z" fill="currentColor"/><path class="ink-stroke" d="M12 9v5.5" stroke-width="2.4" stroke-linecap="round"/><circle class="ink-fill" cx="12" cy="17.6" r="1.4"/></svg>',
  early:
    '<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="M12 1.5 L22.5 12 L12 22.5 L1.5 12 Z" fill="currentColor"/><path class="ink-stroke" d="M12 7v6" stroke-width="2.4" stroke-linecap="round"/><circle class="ink-fill" cx="12" cy="16.5" r="1.4"/></svg>',
  clear:
    '<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><circle cx="12" cy="12" r="10.5" fill="currentColor"/><path class="ink-stroke" d="M7 12.5l3.2 3.2L17 9" fill="none" stroke-width="2.4" stroke-linecap="round" stroke-linejoin="round"/></svg>',
  ended:
    '<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><circle cx="12" cy="12" r="9.5" fill="none" stroke="currentColor" stroke-width="2.2"/><path d="M7.5 12h9" stroke="currentColor" stroke-width="2.4" stroke-linecap="round"/></svg>',
  star:
    '<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="M12 2.8l2.8 6 6.5.7-4.9 4.4 1.4 6.4L12 17l-5.8 3.3 1.4-6.4-4.9-4.4 6.5-.7z" fill="currentColor"/></svg>',
  remove:
    '<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="M6 6l12 12M18 6L6 18" stroke="currentColor" stroke-width="2.4" stroke-linecap="round"/></svg>',
  zone:
    '<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="M4 6l5-2 6 2 5-2v14l-5 2-6-2-5 2z" fill="none" stroke="currentColor" stroke-width="2" stroke-linejoin="round"/></svg>',
  pin:
    '<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="M12 22s7-6.2 7-12a7 7 0 0 0-14 0c0 5.8 7 12 7 12z" fill="none" stroke="currentColor" stroke-width="2"/><circle cx="12" cy="10" r="2.5" fill="currentColor"/></svg>',
};

const iconCache = {};

/** A fresh copy of an icon; parsed once, then cloned (a barrage draws hundreds). */
function icon(name) {
  if (!iconCache[name]) {
    const tpl = document.createElement("template");
    tpl.innerHTML = ICONS[name];
    iconCache[name] = tpl.content.firstElementChild;
  }
  return iconCache[name].cloneNode(true);
}

function h(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

// ------------------------------------------------------------------------------------------
// Subscriptions ("My areas")
// ------------------------------------------------------------------------------------------

function hasMine() {
  return state.prefs.locations.length + state.prefs.zones.length > 0;
}

function isMine(location, zone) {
  return state.prefs.locations.includes(location) || (zone != null && state.prefs.zones.includes(zone));
}

/** What the server should send: everything, or exactly the chosen areas and zones. */
function effectiveSub() {
  const { mode, locations, zones } = state.prefs;
  // "Only my areas" with nothing chosen would silently show nothing: show everything instead.
  if (mode === "mine" && (locations.length || zones.length)) {
    return { all: false, locations: [...locations], zones: [...zones] };
  }
  return { all: true, locations: [], zones: [] };
}

function covers(sub, location, zone) {
  return sub.all || sub.locations.includes(location) || (zone != null && sub.zones.includes(zone));
}

function sameSub(a, b) {
  if (!a || !b || a.all !== b.all) return false;
  const same = (x, y) => x.length === y.length && x.every((v) => y.includes(v));
  return a.all || (same(a.locations, b.locations) && same(a.zones, b.zones));
}

/** The (event, payload) pairs that turn subscription `have` into `want`. */
function subscriptionOps(have, want) {
  if (want.all) return [["subscribe", { all: true }]];
  const ops = [];
  if (have.all) {
    // Leave "everything" first, then join the chosen rooms; the last ack is the full picture.
    ops.push(["unsubscribe", { all: true }]);
    have = { all: false, locations: [], zones: [] };
  }
  const drop = {
    locations: have.locations.filter((x) => !want.locations.includes(x)),
    zones: have.zones.filter((x) => !want.zones.includes(x)),
  };
  const add = {
    locations: want.locations.filter((x) => !have.locations.includes(x)),
    zones: want.zones.filter((x) => !have.zones.includes(x)),
  };
  const payload = (p) => Object.fromEntries(Object.entries(p).filter(([, v]) => v.length));
  if (drop.locations.length || drop.zones.length) ops.push(["unsubscribe", payload(drop)]);
  if (add.locations.length || add.zones.length) ops.push(["subscribe", payload(add)]);
  return ops;
}

let subQueue = Promise.resolve();

/** Bring the server's rooms in line with the preferences (serialised: one change at a time). */
function syncSubscription() {
  subQueue = subQueue.then(doSyncSubscription).catch((err) => {
    // A timeout means the connection dropped: the next connect's auth carries the new set.
    console.warn("alertflow: subscription change not acknowledged", err);
  });
}

/** The subscription after the server applied one (event, payload). */
function applyOp(have, event, payload) {
  const without = (list, drop = []) => list.filter((x) => !drop.includes(x));
  const union = (list, add = []) => [...list, ...add.filter((x) => !list.includes(x))];
  if (payload.all) {
    return event === "subscribe"
      ? { all: true, locations: [], zones: [] }
      : { all: false, locations: have.locations, zones: have.zones };
  }
  return event === "subscribe"
    ? { all: have.all, locations: union(have.locations, payload.locations), zones: union(have.zones, payload.zones) }
    : { all: have.all, locations: without(have.locations, payload.locations), zones: without(have.zones, payload.zones) };
}

async function doSyncSubscription() {
  if (!socket.connected || !state.serverSub) return;
  const want = effectiveSub();
  if (sameSub(want, state.serverSub)) return;
  let ack = null;
  for (const [event, payload] of subscriptionOps(state.serverSub, want)) {
    const answer = await socket.timeout(10000).emitWithAck(event, payload);
    if (!answer || answer.error || !Array.isArray(answer.incidents)) {
      // The server changed nothing for this request; keep what it did accept so far.
      state.subError = answer?.error ? `${answer.error}${answer.field ? ` (${answer.field})` : ""}` : "invalid answer";
      if (ack) applyAckSnapshot(ack);
      renderMine();
      return;
    }
    ack = answer;
    state.serverSub = applyOp(state.serverSub, event, payload);
  }
  state.subError = null;
  if (ack) applyAckSnapshot(ack);
  renderMine();
}

// ------------------------------------------------------------------------------------------
// Incidents: snapshot and alerts
// ------------------------------------------------------------------------------------------

/** Normalise an event or snapshot incident; `prev` is the same window seen before. */
function toIncident(src, prev) {
  const area = state.catalog.get(src.location);
  const same = prev && (!src.incident_id || prev.incident_id === src.incident_id) ? prev : null;
  const types = new Set(same ? same.types : []);
  for (const ty of src.types ?? []) types.add(ty);
  if (src.type) types.add(src.type);
  const issued = src.issued_at ?? src.received_at ?? src.started_at ?? null;
  return {
    location: src.location,
    incident_id: src.incident_id ?? same?.incident_id ?? null,
    known: src.known ?? Boolean(area),
    names: src.names ?? area?.name ?? same?.names ?? null,
    zone: src.zone ?? area?.zoneId ?? same?.zone ?? null,
    zone_names: src.zone_names ?? area?.zone ?? same?.zone_names ?? null,
    shelter_seconds: src.shelter_seconds ?? area?.shelter_seconds ?? same?.shelter_seconds ?? null,
    type: src.type ?? same?.type ?? null,
    types,
    started_at: same?.started_at ?? src.started_at ?? issued,
    ends_at: Math.max(src.ends_at ?? 0, same?.ends_at ?? 0) || null,
    // A later siren in the same window restarts the time to shelter.
    issued_at: Math.max(issued ?? 0, same?.issued_at ?? 0) || null,
    alert_count: src.alert_count ?? same?.alert_count ?? 1,
    seenAt: same && issued !== null && issued <= same.issued_at ? same.seenAt : Date.now(),
  };
}

function setMapState(location, kind) {
  if (map.state.get(location) !== kind) map.setState(location, kind);
}

/** Replace the active set; `keep(incident)` keeps current entries the snapshot does not name. */
function replaceActive(incidents, keep = null) {
  const next = new Map();
  for (const src of incidents) {
    if (!src || typeof src.location !== "string") continue;
    const prev = state.active.get(src.location);
    const incident = toIncident(src, prev);
    if (prev && prev.incident_id === incident.incident_id) incident.seenAt = prev.seenAt;
    next.set(src.location, incident);
  }
  if (keep) {
    for (const [location, incident] of state.active) {
      if (!next.has(location) && keep(incident)) next.set(location, incident);
    }
  }
  for (const location of state.active.keys()) {
    if (!next.has(location)) setMapState(location, "ended");
  }
  state.active = next;
  for (const incident of next.values()) setMapState(incident.location, incidentKind(incident));
}

function onSnapshot(snap) {
  if (!snap || !Array.isArray(snap.incidents)) {
    console.warn("alertflow: ignoring a malformed snapshot", snap);
    return;
  }
  const c = state.conn;
  c.awaitingReplay = false;
  clearTimeout(c.replayTimer);
  const epochChanged = state.epoch !== null && snap.epoch !== state.epoch;
  const before = new Set(state.active.keys());
  replaceActive(snap.incidents);
  // On load (or resync) my areas may already be under alert: say so, the banner alone is silent.
  const mineNew = [...state.active.values()].filter(
    (i) => !before.has(i.location) && hasMine() && isMine(i.location, i.zone),
  );
  if (mineNew.length) {
    const key = mineNew.some((i) => !isEarly(i)) ? "announce.alert_mine" : "announce.early_mine";
    announce(t(key, { names: namesList(mineNew), type: typeLabel(state.lang, incidentType(mineNew[0])) }), true);
  }
  state.epoch = snap.epoch ?? null;
  state.lastSeq = snap.seq ?? null;
  setConn(snap.resync ? "resynced" : "live");
  renderActive();
  renderBanner();
  // The stream was rebuilt (resync, or Redis lost its data): the server's history is the truth.
  if (snap.resync || epochChanged) loadHistory();
}

function applyAckSnapshot(ack) {
  if (ack.epoch !== state.epoch) {
    replaceActive(ack.incidents);
    state.epoch = ack.epoch ?? null;
    state.lastSeq = ack.seq ?? null;
  } else {
    // Whether the ack lists every subscribed window or only the new rooms', keeping what is
    // still covered and adding what it names gives the same, correct set.
    const sub = state.serverSub ?? effectiveSub();
    replaceActive(ack.incidents, (incident) => covers(sub, incident.location, incident.zone));
    if (ack.seq != null && (state.lastSeq === null || seqCmp(ack.seq, state.lastSeq) > 0)) state.lastSeq = ack.seq;
  }
  renderActive();
  renderBanner();
  renderHistory();
}

function applyEvent(ev) {
  const location = ev.location;
  if (ev.kind === "open") {
    const prev = state.active.get(location);
    state.closedReason.delete(location);
    const incident = toIncident(ev, prev && prev.incident_id === ev.incident_id ? prev : null);
    state.active.set(location, incident);
    setMapState(location, incidentKind(incident));
  } else if (ev.kind === "close") {
    const prev = state.active.get(location);
    // A close for an older window of this area must not end the current one.
    if (prev && ev.incident_id && prev.incident_id && prev.incident_id !== ev.incident_id) return;
    state.active.delete(location);
    state.closedReason.set(location, ev.reason);
    setMapState(location, ev.reason === "cancelled" ? "clear" : "ended");
  }
}

function onAlerts(batch) {
  const events = Array.isArray(batch) ? batch : [batch];
  const c = state.conn;
  const replay = c.awaitingReplay;
  const applied = [];
  for (const ev of events) {
    if (!ev || typeof ev.location !== "string") continue;
    // Already applied (e.g. covered by a snapshot, or the same event through two rooms).
    if (ev.seq != null && state.lastSeq !== null && seqCmp(ev.seq, state.lastSeq) <= 0) continue;
    if (ev.seq != null) state.lastSeq = ev.seq;
    if (!replay) sampleSkew(ev);
    applyEvent(ev);
    addHistory(ev, state.epoch);
    applied.push(ev);
  }
  if (replay) {
    // The first `alerts` after resuming with `since` carries what was missed.
    c.awaitingReplay = false;
    clearTimeout(c.replayTimer);
    setConn("resumed", applied.length);
  }
  renderActive();
  renderHistoryAppend(applied);
  react(applied, replay);
  renderBanner();
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
// Connection
// ------------------------------------------------------------------------------------------

const basePath = new URL(".", window.location.href).pathname;

function buildAuth() {
  const sub = effectiveSub();
  const before = state.serverSub;
  state.pendingSub = sub;
  const auth = {};
  // Resume only with the rooms we had: areas chosen while offline need a fresh snapshot, since
  // their windows may have opened before `since`.
  if (state.epoch !== null && state.lastSeq !== null && before && sameSub(sub, before)) {
    auth.since = state.lastSeq;
    auth.epoch = state.epoch;
  }
  if (!sub.all) {
    if (sub.locations.length) auth.locations = sub.locations;
    if (sub.zones.length) auth.zones = sub.zones;
  }
  state.conn.sentSince = "since" in auth;
  return auth;
}

const socket = window.io({
  path: `${basePath}socket.io`,
  transports: ["websocket"],
  // A function, not an object: evaluated at every (re)connection, so it always carries the
  // latest position and the current choice of areas.
  auth: (cb) => cb(buildAuth()),
  reconnectionDelay: 500,
  reconnectionDelayMax: 5000,
});

socket.on("connect", () => {
  const c = state.conn;
  state.serverSub = state.pendingSub;
  c.attempt = 0;
  c.manualDelay = 1000;
  if (c.everConnected && c.sentSince) {
    // Resuming: the missed events come as the first `alerts`; if none come, nothing was missed.
    // The state stays "reconnecting" until then, so "resumed" shows once they are on screen.
    c.awaitingReplay = true;
    clearTimeout(c.replayTimer);
    c.replayTimer = setTimeout(() => {
      if (!c.awaitingReplay) return;
      c.awaitingReplay = false;
      setConn("resumed", 0);
    }, REPLAY_WAIT_MS);
    renderConn();
  }
  c.everConnected = true;
  // Preferences changed between building the auth and now are sent as a subscription change.
  syncSubscription();
});

socket.on("disconnect", (reason) => {
  state.conn.awaitingReplay = false;
  setConn("reconnecting");
  // The client does not reconnect by itself after a server-side disconnect: do it, gently.
  if (reason === "io server disconnect") scheduleManualReconnect();
});

socket.on("connect_error", (err) => {
  setConn(state.conn.everConnected || state.conn.attempt > 0 ? "reconnecting" : "connecting");
  // A refusal by the server's middleware stops automatic retries; anything else keeps them.
  if (!socket.active) {
    console.warn("alertflow: connection refused", err?.message);
    scheduleManualReconnect();
  }
});

socket.io.on("reconnect_attempt", (attempt) => {
  state.conn.attempt = attempt;
  if (state.conn.state === "reconnecting" || state.conn.state === "connecting") renderConn();
});

socket.on("snapshot", onSnapshot);
socket.on("alerts", onAlerts);

function scheduleManualReconnect() {
  const c = state.conn;
  const delay = c.manualDelay * (0.75 + Math.random() * 0.5);
  c.manualDelay = Math.min(30000, c.manualDelay * 2);
  setTimeout(() => {
    if (!socket.connected && !socket.active) socket.connect();
  }, delay);
}

function setConn(kind, missed = 0) {
  state.conn.state = kind;
  state.conn.missed = missed;
  renderConn();
}

function renderConn() {
  const c = state.conn;
  const node = $("#connection-state");
  node.dataset.state = c.state;
  node.dataset.missed = c.state === "resumed" ? String(c.missed) : "";
  let label;
  if (c.state === "connecting") label = t("conn.connecting");
  else if (c.state === "reconnecting") {
    label = c.awaitingReplay ? t("conn.resumed_pending") : t("conn.reconnecting");
  } else if (c.state === "resumed") {
    label = c.missed > 0 ? t("conn.resumed", { n: c.missed }) : t("conn.resumed_none");
  } else if (c.state === "resynced") label = t("conn.resynced");
  else label = t("conn.live");
  node.querySelector(".conn-label").textContent = label;
  const attempt = node.querySelector(".conn-attempt");
  const showAttempt = c.state === "reconnecting" && !c.awaitingReplay && c.attempt > 1;
  attempt.hidden = !showAttempt;
  attempt.textContent = showAttempt ? t("conn.attempt", { n: c.attempt }) : "";
  // While the connection is down, say so loudly: what is on screen may be stale.
  const offline = c.state === "reconnecting" && !c.awaitingReplay && c.everConnected;
  $("#offline-notice").hidden = !offline;
  document.body.classList.toggle("is-offline", offline);
}

// ------------------------------------------------------------------------------------------
// Reactions: announcements, sounds, notifications
// ------------------------------------------------------------------------------------------

function namesList(events) {
  const seen = [];
  for (const ev of events) {
    const name = areaName(ev.location, ev.names);
    if (!seen.includes(name)) seen.push(name);
  }
  const shown = seen.slice(0, 5).join(", ");
  return seen.length > 5 ? `${shown} ${t("announce.more", { n: seen.length - 5 })}` : shown;
}

function announce(text, assertive) {
  if (!text) return;
  const region = $(assertive ? "#announce-assertive" : "#announce-polite");
  region.textContent = "";
  // Setting the text after a moment makes screen readers announce a repeated message too.
  setTimeout(() => {
    region.textContent = text;
  }, 80);
}

function react(events, replay) {
  if (!events.length) return;
  const now = serverNow();
  const mineOn = hasMine();
  // Opens whose window is still open once the whole batch is applied.
  const opens = events.filter(
    (ev) => ev.kind === "open" && state.active.get(ev.location)?.incident_id === (ev.incident_id ?? null),
  );
  const closes = events.filter((ev) => ev.kind === "close" && !state.active.has(ev.location));
  const clears = closes.filter(
    (ev) => ev.reason === "cancelled" && (!replay || now - (ev.ends_at ?? now) < RECENT_CLEAR_MS),
  );
  const ended = closes.filter((ev) => ev.reason !== "cancelled");
  const mine = (ev) => mineOn && isMine(ev.location, zoneOf(ev.location, ev.zone));
  const early = (ev) => isEarly(state.active.get(ev.location));
  const alertOpens = opens.filter((ev) => !early(ev));
  const earlyOpens = opens.filter(early);

  const typeOf = (list) => typeLabel(state.lang, list.find((ev) => !isEarlyType(ev.type))?.type ?? list[0]?.type);
  const assertive = [];
  const polite = [];
  const mineAlerts = alertOpens.filter(mine);
  const mineEarly = earlyOpens.filter(mine);
  if (mineAlerts.length) assertive.push(t("announce.alert_mine", { names: namesList(mineAlerts), type: typeOf(mineAlerts) }));
  if (mineEarly.length) assertive.push(t("announce.early_mine", { names: namesList(mineEarly) }));
  const otherAlerts = alertOpens.filter((ev) => !mine(ev));
  const otherEarly = earlyOpens.filter((ev) => !mine(ev));
  if (otherAlerts.length) polite.push(t("announce.alert", { names: namesList(otherAlerts), type: typeOf(otherAlerts) }));
  if (otherEarly.length) polite.push(t("announce.early", { names: namesList(otherEarly) }));
  if (clears.length) polite.push(t("announce.clear", { names: namesList(clears) }));
  if (ended.length && !replay) polite.push(t("announce.ended", { names: namesList(ended) }));
  announce(assertive.join(" "), true);
  announce(polite.join(" "), false);

  // Sounds: for my areas when I have some, for every area otherwise; the most urgent wins.
  const relevant = (ev) => !mineOn || mine(ev);
  if (alertOpens.some(relevant)) sounds.play("alert");
  else if (earlyOpens.some(relevant)) sounds.play("early");
  else if (clears.some(relevant)) sounds.play("clear");

  // Banner memory: a fresh all-clear for my areas shows green when none of them is left.
  const mineClears = clears.filter(mine);
  if (mineClears.length) state.banner.clear = { events: mineClears, until: Date.now() + BANNER_CLEAR_MS };
  if (mineAlerts.length || mineEarly.length) state.banner.clear = null;

  if (mineAlerts.length) notify(t("banner.alert"), `${namesList(mineAlerts)} — ${typeOf(mineAlerts)}`, true);
  else if (mineEarly.length) notify(t("banner.early"), namesList(mineEarly), true);
  else if (mineClears.length) notify(t("banner.clear"), namesList(mineClears), false);
}

function notificationsWanted() {
  return "Notification" in window && Notification.permission === "granted" && load(KEYS.notify, true);
}

function notify(title, body, urgent) {
  if (!notificationsWanted()) return;
  try {
    const n = new Notification(title, {
      body,
      tag: "alertflow-my-areas",
      renotify: true,
      requireInteraction: urgent,
      lang: state.lang,
      icon: "favicon.svg",
    });
    n.onclick = () => {
      window.focus();
      n.close();
    };
  } catch (err) {
    // Some mobile browsers only allow notifications from a service worker.
    console.warn("alertflow: notification not shown", err?.message);
  }
}

// ------------------------------------------------------------------------------------------
// Active alerts list
// ------------------------------------------------------------------------------------------

const rows = new Map(); // location -> {el, refs, closing, sig}

function createRow(location) {
  const li = h("li", "alert-row");
  li.dataset.location = location;
  const badge = h("div", "row-badge");
  const badgeIcon = h("span", "row-icon");
  const badgeText = h("span", "row-kind");
  badge.append(badgeIcon, badgeText);

  const main = h("div", "row-main");
  const title = h("h3", "row-title");
  const locate = h("button", "row-name");
  locate.type = "button";
  const mineTag = h("span", "row-mine");
  mineTag.append(icon("star"));
  const mineText = h("span", "", "");
  mineTag.append(mineText);
  title.append(locate, mineTag);
  const meta = h("p", "row-meta");
  const zone = h("span", "row-zone");
  const type = h("span", "row-type");
  const since = h("span", "row-since");
  meta.append(zone, type, since);
  main.append(title, meta);

  const timers = h("div", "row-timers");
  const shelterBox = h("div", "timer timer-shelter");
  const shelterLabel = h("span", "timer-label");
  const shelter = h("span", "countdown countdown-shelter");
  shelterBox.append(shelterLabel, shelter);
  const windowBox = h("div", "timer timer-window");
  const windowLabel = h("span", "timer-label");
  const windowValue = h("span", "countdown countdown-window");
  windowBox.append(windowLabel, windowValue);
  timers.append(shelterBox, windowBox);

  li.append(badge, main, timers);
  locate.addEventListener("click", () => showOnMap(location));
  li.addEventListener("animationend", () => li.classList.remove("is-new"));
  li.addEventListener("mouseenter", () => map.highlight(location));
  li.addEventListener("mouseleave", () => map.highlight(null));
  return {
    el: li,
    closing: null,
    sig: "",
    refs: { badgeIcon, badgeText, locate, mineTag, mineText, zone, type, since, shelterBox, shelterLabel, shelter, windowLabel, windowValue },
    last: {},
  };
}

function fillRow(row, incident) {
  const kind = incidentKind(incident);
  const mine = hasMine() && isMine(incident.location, incident.zone);
  const name = areaName(incident.location, incident.names);
  const zone = incident.known === false ? t("row.unknown") : zoneName(incident.zone, incident.zone_names);
  const type = typeLabel(state.lang, incidentType(incident));
  const sig = [state.lang, kind, mine, name, zone, type, incident.incident_id].join("|");
  if (row.sig === sig) return;
  row.sig = sig;
  row.last = {};
  const r = row.refs;
  row.el.classList.remove("kind-alert", "kind-early");
  row.el.classList.add(`kind-${kind}`);
  row.el.classList.toggle("is-mine", mine);
  row.el.dataset.kind = kind;
  row.el.dataset.incident = incident.incident_id ?? "";
  r.badgeIcon.replaceChildren(icon(kind));
  r.badgeText.textContent = t(`kind.${kind}`);
  r.locate.textContent = name;
  r.locate.setAttribute("aria-label", t("row.locate", { name }));
  r.mineTag.hidden = !mine;
  r.mineText.textContent = t("row.mine");
  r.zone.textContent = zone;
  r.type.textContent = type;
  r.shelterLabel.textContent = t("row.shelter");
  r.windowLabel.textContent = t("row.window");
  tickRow(row, incident, serverNow());
}

function setText(row, key, node, text) {
  if (row.last[key] !== text) {
    row.last[key] = text;
    node.textContent = text;
  }
}

function tickRow(row, incident, now) {
  const r = row.refs;
  if (incident.issued_at) {
    setText(row, "since", r.since, t("row.siren", { t: formatDuration(now - incident.issued_at) }));
  }
  // Time to shelter: from the latest siren, `shelter_seconds` long.
  let shelterText = "—";
  let shelterLeft = null;
  if (incident.issued_at && incident.shelter_seconds != null) {
    const left = incident.issued_at + incident.shelter_seconds * 1000 - now;
    shelterLeft = Math.max(0, Math.ceil(left / 1000));
    if (left > 0) shelterText = formatDuration(left, true);
    else if (incident.shelter_seconds === 0 && now - incident.issued_at < 90000) shelterText = t("row.shelter_now");
    else shelterText = t("row.shelter_passed");
  }
  setText(row, "shelter", r.shelter, shelterText);
  r.shelter.dataset.seconds = shelterLeft ?? "";
  const urgent = shelterLeft !== null && shelterLeft > 0;
  if (row.last.urgent !== urgent) {
    row.last.urgent = urgent;
    r.shelterBox.classList.toggle("is-urgent", urgent);
    r.shelterBox.classList.toggle("is-passed", !urgent);
  }
  let windowText = "—";
  let windowLeft = null;
  if (incident.ends_at) {
    const left = incident.ends_at - now;
    windowLeft = Math.max(0, Math.ceil(left / 1000));
    windowText = left > 0 ? formatDuration(left, true) : t("row.window_ending");
  }
  setText(row, "window", r.windowValue, windowText);
  r.windowValue.dataset.seconds = windowLeft ?? "";
}

function newestFirst(a, b) {
  // Ties (one alert naming many areas) keep a stable, cheap order: localeCompare is slow.
  return (b.issued_at ?? 0) - (a.issued_at ?? 0) || (a.location < b.location ? -1 : a.location > b.location ? 1 : 0);
}

function startRowClose(location, row) {
  const reason = state.closedReason.get(location);
  const kind = reason === "cancelled" ? "clear" : "ended";
  row.el.classList.add("closing", `closed-${kind}`);
  row.el.dataset.kind = kind;
  row.refs.badgeIcon.replaceChildren(icon(kind));
  row.refs.badgeText.textContent = t(`kind.${kind}`);
  row.closing = setTimeout(() => {
    row.el.remove();
    rows.delete(location);
    state.closedReason.delete(location);
    updateQuiet();
  }, ROW_FADE_MS);
}

function renderActive() {
  const list = $("#active-list");
  for (const [location, row] of rows) {
    if (!state.active.has(location) && !row.closing) startRowClose(location, row);
  }
  const items = [...state.active.values()].sort(newestFirst);
  // New rows slide in, except in a barrage, where hundreds of animations only cost time.
  const animate = items.filter((i) => !rows.has(i.location)).length <= 12;
  let prev = null;
  for (const incident of items) {
    let row = rows.get(incident.location);
    if (row?.closing) {
      clearTimeout(row.closing);
      row.closing = null;
      row.el.classList.remove("closing", "closed-clear", "closed-ended");
      row.sig = "";
    }
    if (!row) {
      row = createRow(incident.location);
      rows.set(incident.location, row);
      if (animate) row.el.classList.add("is-new");
    }
    fillRow(row, incident);
    // Keep the order newest first; rows that are fading out stay where they were.
    let want = prev ? prev.nextSibling : list.firstChild;
    while (want && want.classList.contains("closing")) want = want.nextSibling;
    if (want !== row.el) list.insertBefore(row.el, want);
    prev = row.el;
  }
  const n = state.active.size;
  const zones = new Set([...state.active.values()].map((i) => i.zone ?? i.location));
  $("#active-summary").textContent = n
    ? `${t("active.count", { n })} ${t("active.count_zones", { n: zones.size })}`.trim()
    : "";
  document.title = n ? `(${n}) ${t("app.title")}` : t("app.title");
  updateQuiet();
}

function updateQuiet() {
  const quiet = state.active.size === 0 && rows.size === 0;
  $("#all-quiet").hidden = !quiet;
  $("#active-section").classList.toggle("is-quiet", quiet);
  $("#all-quiet .quiet-detail").textContent = effectiveSub().all ? t("active.quiet_all") : t("active.quiet_mine");
}

function showOnMap(location) {
  map.focusArea(location);
  const section = $("#map-section");
  const box = section.getBoundingClientRect();
  if (box.top < 0 || box.bottom > window.innerHeight) section.scrollIntoView({ behavior: "smooth", block: "start" });
}

// ------------------------------------------------------------------------------------------
// Banner for my areas
// ------------------------------------------------------------------------------------------

function renderBanner() {
  const banner = $("#my-banner");
  const mineActive = hasMine()
    ? [...state.active.values()].filter((i) => isMine(i.location, i.zone)).sort(newestFirst)
    : [];
  const dismissedAt = state.banner.dismissedAt;
  let mode = null;
  let list = [];
  if (mineActive.length) {
    if (mineActive.some((i) => i.seenAt > dismissedAt)) {
      mode = mineActive.some((i) => !isEarly(i)) ? "alert" : "early";
      list = mineActive;
    }
  } else if (state.banner.clear && state.banner.clear.until > Date.now() && Date.now() - dismissedAt > 0) {
    mode = "clear";
    list = state.banner.clear.events;
  }
  if (!mode) {
    banner.hidden = true;
    banner.dataset.kind = "";
    return;
  }
  banner.hidden = false;
  banner.dataset.kind = mode;
  banner.className = `banner banner-${mode}`;
  banner.querySelector(".banner-icon").replaceChildren(icon(mode));
  $("#banner-title").textContent = t(`banner.${mode}`);
  const names = [...new Set(list.map((i) => areaName(i.location, i.names)))];
  const more = names.length > 3 ? ` ${t("banner.more", { n: names.length - 3 })}` : "";
  banner.querySelector(".banner-places").textContent = names.slice(0, 3).join(" · ") + more;
  const detail = mode === "clear" ? "" : typeLabel(state.lang, incidentType(list[0]));
  banner.querySelector(".banner-detail").textContent = detail;
  tickBanner();
}

function tickBanner() {
  const banner = $("#my-banner");
  const timer = banner.querySelector(".banner-timer");
  if (banner.hidden || banner.dataset.kind === "clear") {
    timer.hidden = true;
    if (!banner.hidden && state.banner.clear && state.banner.clear.until <= Date.now()) renderBanner();
    return;
  }
  const now = serverNow();
  const deadlines = [...state.active.values()]
    .filter((i) => isMine(i.location, i.zone) && i.issued_at && i.shelter_seconds != null)
    .map((i) => i.issued_at + i.shelter_seconds * 1000 - now);
  timer.hidden = !deadlines.length;
  if (!deadlines.length) return;
  const left = Math.min(...deadlines.filter((d) => d > 0), Infinity);
  const label = banner.querySelector(".banner-timer-label");
  const value = banner.querySelector(".banner-timer-value");
  if (Number.isFinite(left)) {
    label.textContent = t("banner.shelter");
    value.textContent = formatDuration(left, true);
    value.hidden = false;
  } else {
    label.textContent = t("banner.shelter_passed");
    value.hidden = true;
  }
}

$("#my-banner .banner-dismiss").addEventListener("click", () => {
  state.banner.dismissedAt = Date.now();
  state.banner.clear = null;
  renderBanner();
});

// ------------------------------------------------------------------------------------------
// History
// ------------------------------------------------------------------------------------------

function eventTime(ev) {
  if (ev.kind === "open") return ev.issued_at ?? ev.received_at ?? ev.started_at ?? serverNow();
  // A close happens at `ends_at`, or earlier on a cancel; never show a time in the future.
  const now = serverNow();
  return Math.min(ev.ends_at ?? now, now);
}

function addHistory(ev, epoch) {
  const key = `${epoch ?? "-"}:${ev.seq ?? `${ev.incident_id}:${ev.kind}`}`;
  if (state.historyKeys.has(key)) return false;
  state.historyKeys.add(key);
  state.history.push({ ev, key, at: eventTime(ev) });
  if (state.history.length > HISTORY_LIMIT * 2) trimHistory();
  return true;
}

function trimHistory() {
  state.history.sort(historyOrder);
  const dropped = state.history.splice(HISTORY_LIMIT);
  for (const item of dropped) state.historyKeys.delete(item.key);
}

function historyOrder(a, b) {
  return b.at - a.at || (a.ev.seq != null && b.ev.seq != null ? seqCmp(b.ev.seq, a.ev.seq) : 0);
}

function historyKind(ev) {
  if (ev.kind === "close") return ev.reason === "cancelled" ? "clear" : "ended";
  return isEarlyType(ev.type) ? "early" : "alert";
}

function historyVisible(ev) {
  return covers(effectiveSub(), ev.location, zoneOf(ev.location, ev.zone));
}

function historyRow(item) {
  const ev = item.ev;
  const kind = historyKind(ev);
  const li = h("li", `history-row kind-${kind}`);
  li.dataset.location = ev.location;
  li.dataset.kind = ev.kind;
  if (ev.reason) li.dataset.reason = ev.reason;
  if (ev.seq != null) li.dataset.seq = String(ev.seq);
  if (hasMine() && isMine(ev.location, zoneOf(ev.location, ev.zone))) li.classList.add("is-mine");
  const time = h("time", "hist-time", formatTime(item.at));
  time.dateTime = new Date(item.at).toISOString();
  const badge = h("span", "hist-badge");
  badge.append(icon(kind));
  badge.append(h("span", "", t(`kind.${kind}`)));
  const name = h("span", "hist-name", areaName(ev.location, ev.names));
  const detail = [zoneName(zoneOf(ev.location, ev.zone), ev.zone_names)];
  if (ev.kind === "open") detail.push(typeLabel(state.lang, ev.type));
  const meta = h("span", "hist-meta", detail.filter(Boolean).join(" · "));
  li.append(time, badge, name, meta);
  return li;
}

function renderHistory() {
  const list = $("#history");
  state.history.sort(historyOrder);
  const frag = document.createDocumentFragment();
  let count = 0;
  for (const item of state.history) {
    if (count >= HISTORY_LIMIT) break;
    if (!historyVisible(item.ev)) continue;
    frag.appendChild(historyRow(item));
    count++;
  }
  list.replaceChildren(frag);
  $("#history-empty").hidden = count > 0;
}

function renderHistoryAppend(events) {
  const list = $("#history");
  const wanted = new Set(events);
  const items = state.history.filter((item) => wanted.has(item.ev) && historyVisible(item.ev));
  if (!items.length) return;
  // Live events are the newest: put them on top, newest first (no more than the list keeps).
  const frag = document.createDocumentFragment();
  for (const item of items.sort(historyOrder).slice(0, HISTORY_LIMIT)) frag.appendChild(historyRow(item));
  list.prepend(frag);
  while (list.children.length > HISTORY_LIMIT) list.lastElementChild.remove();
  $("#history-empty").hidden = true;
}

async function loadHistory(attempt = 0) {
  try {
    const res = await fetch("v1/events?limit=200", { cache: "no-store" });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const data = await res.json();
    const events = Array.isArray(data) ? data : data.events ?? [];
    for (const ev of events) if (ev && typeof ev.location === "string") addHistory(ev, data.epoch ?? state.epoch);
    trimHistory();
    $("#history-empty").textContent = t("history.empty");
    renderHistory();
  } catch (err) {
    console.warn("alertflow: history not loaded", err?.message);
    $("#history-empty").textContent = t("history.error");
    if (attempt < 5) setTimeout(() => loadHistory(attempt + 1), 2000 * 2 ** attempt);
  }
}

// ------------------------------------------------------------------------------------------
// Catalogue, map and search
// ------------------------------------------------------------------------------------------

const map = new AreaMap($("#map"), {
  describe(id) {
    const area = state.catalog.get(id);
    if (!area) return null;
    const incident = state.active.get(id);
    const mapState = map.state.get(id);
    let status = "none";
    let statusLabel = t("map.status_none");
    if (incident) {
      status = incidentKind(incident);
      statusLabel = `${t(`kind.${status}`)} — ${typeLabel(state.lang, incidentType(incident))}`;
    } else if (mapState === "clear") {
      status = "clear";
      statusLabel = t("kind.clear");
    }
    return {
      name: areaName(id, area.name),
      zone: zoneName(area.zoneId, area.zone),
      status,
      statusLabel,
      mine: state.prefs.locations.includes(id),
      addLabel: t("map.add"),
      removeLabel: t("map.remove"),
      closeLabel: t("map.close"),
    };
  },
  onToggleMine(id) {
    toggleLocation(id);
  },
});

$("#map-zoom-in").addEventListener("click", () => map.zoom(1.6));
$("#map-zoom-out").addEventListener("click", () => map.zoom(1 / 1.6));
$("#map-reset").addEventListener("click", () => map.reset());
$("#map-show-alerts").addEventListener("click", () => map.showActive());

/** Fold case, accents, Hebrew points and Arabic letter variants, so any spelling finds a place. */
function normalize(text) {
  return String(text)
    .normalize("NFKD")
    .replace(/[\u0591-\u05C7\u064B-\u065F\u0670\p{M}]/gu, "")
    .toLowerCase()
    .replace(/[أإآٱ]/g, "ا")
    .replace(/ى/g, "ي")
    .replace(/ة/g, "ه")
    .replace(/[-‐–—'"`׳״’‘.,()/]/g, " ")
    .replace(/\s+/g, " ")
    .trim();
}

function setCatalog(records) {
  state.catalog.clear();
  state.zones.clear();
  for (const r of records) {
    if (!r || typeof r.id !== "string") continue;
    const zoneNames = r.zone && typeof r.zone === "object" ? r.zone : r.zone ? { he: String(r.zone) } : {};
    const zoneId = zoneNames.he ?? Object.values(zoneNames)[0] ?? null;
    const area = {
      id: r.id,
      name: r.name ?? r.names ?? {},
      zone: zoneNames,
      zoneId,
      shelter_seconds: r.shelter_seconds ?? null,
      lat: Number(r.lat),
      lng: Number(r.lng),
    };
    state.catalog.set(area.id, area);
    if (zoneId) {
      if (!state.zones.has(zoneId)) state.zones.set(zoneId, { id: zoneId, names: zoneNames, areas: [] });
      state.zones.get(zoneId).areas.push(area.id);
    }
  }
  state.searchIndex = [
    ...[...state.zones.values()].map((z) => ({
      type: "zone",
      id: z.id,
      names: z.names,
      keys: [z.id, ...Object.values(z.names)].map(normalize),
    })),
    ...[...state.catalog.values()].map((a) => ({
      type: "area",
      id: a.id,
      names: a.name,
      keys: [a.id, ...Object.values(a.name)].map(normalize),
    })),
  ];
  map.setAreas([...state.catalog.values()]);
  map.setMine(mineAreaIds());
  $("#map-status")?.remove();
  $("#catalogue-size").textContent = t("footer.catalogue", { n: state.catalog.size });
  // Names, zones and shelter times for incidents that arrived before the catalogue.
  for (const [location, incident] of state.active) state.active.set(location, toIncident(incident, incident));
  for (const row of rows.values()) row.sig = "";
  renderActive();
  renderMine();
}

async function loadCatalog() {
  for (let attempt = 0; ; attempt++) {
    try {
      const res = await fetch("v1/locations", { cache: "no-cache" });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      skewFromResponse(res);
      const data = await res.json();
      setCatalog(Array.isArray(data) ? data : data.locations ?? []);
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

function mineAreaIds() {
  const ids = new Set(state.prefs.locations);
  for (const zone of state.prefs.zones) for (const id of state.zones.get(zone)?.areas ?? []) ids.add(id);
  return ids;
}

function search(query) {
  const q = normalize(query);
  if (!q) return [];
  const scored = [];
  for (const entry of state.searchIndex) {
    let best = Infinity;
    let matched = null;
    entry.keys.forEach((key, i) => {
      let score = Infinity;
      if (key === q) score = 0;
      else if (key.startsWith(q)) score = 1;
      else if (key.includes(` ${q}`)) score = 2;
      else if (key.includes(q)) score = 3;
      if (score < best) {
        best = score;
        matched = i;
      }
    });
    if (best < Infinity) scored.push({ entry, score: best, matched });
  }
  scored.sort(
    (a, b) =>
      a.score - b.score ||
      (a.entry.type === "zone" ? -1 : 0) - (b.entry.type === "zone" ? -1 : 0) ||
      a.entry.keys[a.matched].length - b.entry.keys[b.matched].length,
  );
  return scored.slice(0, 12);
}

// --- search combobox (WAI-ARIA combobox with a listbox popup) ---

const searchInput = $("#area-search");
const resultsList = $("#area-results");
let results = [];
let activeResult = -1;

function renderResults() {
  const q = searchInput.value.trim();
  results = search(q);
  activeResult = results.length ? 0 : -1;
  resultsList.replaceChildren();
  if (!q) {
    closeResults();
    return;
  }
  if (!results.length) {
    const li = h("li", "result-empty", t("my.no_results", { q }));
    li.setAttribute("role", "option");
    li.setAttribute("aria-disabled", "true");
    resultsList.append(li);
  }
  results.forEach((res, i) => {
    const { entry } = res;
    const li = h("li", `result result-${entry.type}`);
    li.id = `result-${i}`;
    li.setAttribute("role", "option");
    const chosen = entry.type === "zone" ? state.prefs.zones.includes(entry.id) : state.prefs.locations.includes(entry.id);
    li.setAttribute("aria-selected", "false");
    if (chosen) li.classList.add("is-chosen");
    const iconBox = h("span", "result-icon");
    iconBox.append(icon(entry.type === "zone" ? "zone" : "pin"));
    const text = h("span", "result-text");
    const primary = entry.names[state.lang] || entry.names.he || entry.id;
    const name = h("span", "result-name", primary);
    text.append(name);
    // Show the name that matched when it is in another language than the page's.
    const matchedName = [entry.id, ...Object.values(entry.names)][res.matched];
    const details = [];
    if (matchedName && normalize(matchedName) !== normalize(primary)) details.push(matchedName);
    if (entry.type === "zone") {
      details.push(`${t("my.zone")} · ${t("my.zone_areas", { n: state.zones.get(entry.id)?.areas.length ?? 0 })}`);
    } else {
      const area = state.catalog.get(entry.id);
      details.push(zoneName(area.zoneId, area.zone));
    }
    if (chosen) details.push(t("my.already"));
    text.append(h("span", "result-detail", details.join(" · ")));
    li.append(iconBox, text);
    li.addEventListener("mousedown", (e) => e.preventDefault()); // keep focus in the input
    li.addEventListener("click", () => chooseResult(i));
    resultsList.append(li);
  });
  resultsList.hidden = false;
  searchInput.setAttribute("aria-expanded", "true");
  highlightResult();
}

function highlightResult() {
  [...resultsList.querySelectorAll(".result")].forEach((li, i) => {
    const on = i === activeResult;
    li.classList.toggle("is-active", on);
    li.setAttribute("aria-selected", on ? "true" : "false");
    if (on) li.scrollIntoView({ block: "nearest" });
  });
  if (activeResult >= 0) searchInput.setAttribute("aria-activedescendant", `result-${activeResult}`);
  else searchInput.removeAttribute("aria-activedescendant");
}

function closeResults() {
  resultsList.hidden = true;
  searchInput.setAttribute("aria-expanded", "false");
  searchInput.removeAttribute("aria-activedescendant");
}

function chooseResult(i) {
  const res = results[i];
  if (!res) return;
  const { entry } = res;
  const list = entry.type === "zone" ? state.prefs.zones : state.prefs.locations;
  const name = entry.names[state.lang] || entry.names.he || entry.id;
  if (!list.includes(entry.id)) {
    list.push(entry.id);
    announce(t("my.added", { name }), false);
    prefsChanged();
  }
  searchInput.value = "";
  closeResults();
}

searchInput.addEventListener("input", renderResults);
searchInput.addEventListener("keydown", (e) => {
  if (e.key === "ArrowDown" || e.key === "ArrowUp") {
    if (resultsList.hidden) renderResults();
    if (!results.length) return;
    const step = e.key === "ArrowDown" ? 1 : -1;
    activeResult = (activeResult + step + results.length) % results.length;
    highlightResult();
    e.preventDefault();
  } else if (e.key === "Enter") {
    if (activeResult >= 0) {
      chooseResult(activeResult);
      e.preventDefault();
    }
  } else if (e.key === "Escape") {
    if (!resultsList.hidden) {
      closeResults();
      e.preventDefault();
    } else searchInput.value = "";
  }
});
searchInput.addEventListener("blur", () => setTimeout(closeResults, 150));
searchInput.addEventListener("focus", () => {
  if (searchInput.value.trim()) renderResults();
});

// --- my areas: chips, mode ---

function toggleLocation(id) {
  const list = state.prefs.locations;
  const at = list.indexOf(id);
  const name = areaName(id);
  if (at >= 0) {
    list.splice(at, 1);
    announce(t("my.removed", { name }), false);
  } else {
    list.push(id);
    announce(t("my.added", { name }), false);
  }
  prefsChanged();
}

function prefsChanged() {
  store(KEYS.areas, state.prefs);
  map.setMine(mineAreaIds());
  state.subError = null;
  for (const row of rows.values()) row.sig = "";
  renderMine();
  renderActive();
  renderBanner();
  renderHistory();
  syncSubscription();
}

function renderMine() {
  $("#mode-all").checked = state.prefs.mode === "all";
  $("#mode-mine").checked = state.prefs.mode === "mine";
  const status = $("#my-status");
  let text;
  let warn = false;
  if (state.subError) {
    text = t("my.error", { msg: state.subError });
    warn = true;
  } else if (!hasMine()) {
    text = state.prefs.mode === "mine" ? t("my.empty_mine") : t("my.empty");
    warn = state.prefs.mode === "mine";
  } else text = state.prefs.mode === "mine" ? t("my.subscribed_mine") : t("my.subscribed_all");
  status.textContent = text;
  status.classList.toggle("is-warning", warn);

  const list = $("#my-areas-list");
  list.replaceChildren();
  const chip = (kind, id, label, detail) => {
    const li = h("li", `chip chip-${kind}`);
    li.dataset[kind === "zone" ? "zone" : "location"] = id;
    const iconBox = h("span", "chip-icon");
    iconBox.append(icon(kind === "zone" ? "zone" : "pin"));
    const text = h("span", "chip-text");
    text.append(h("span", "chip-name", label));
    if (detail) text.append(h("span", "chip-detail", detail));
    const remove = h("button", "chip-remove");
    remove.type = "button";
    remove.append(icon("remove"));
    remove.setAttribute("aria-label", t("my.remove", { name: label }));
    remove.title = t("my.remove", { name: label });
    remove.addEventListener("click", () => {
      const from = kind === "zone" ? state.prefs.zones : state.prefs.locations;
      from.splice(from.indexOf(id), 1);
      announce(t("my.removed", { name: label }), false);
      prefsChanged();
      searchInput.focus();
    });
    li.append(iconBox, text, remove);
    list.append(li);
  };
  for (const zone of state.prefs.zones) {
    const z = state.zones.get(zone);
    chip("zone", zone, zoneName(zone, z?.names), z ? `${t("my.zone")} · ${t("my.zone_areas", { n: z.areas.length })}` : t("my.zone"));
  }
  for (const id of state.prefs.locations) {
    const area = state.catalog.get(id);
    chip("location", id, areaName(id), area ? zoneName(area.zoneId, area.zone) : "");
  }
}

for (const radio of document.querySelectorAll('input[name="mode"]')) {
  radio.addEventListener("change", () => {
    state.prefs.mode = radio.value === "mine" ? "mine" : "all";
    prefsChanged();
  });
}

// ------------------------------------------------------------------------------------------
// Sound and notification controls
// ------------------------------------------------------------------------------------------

const soundButton = $("#sound-toggle");

function renderSound() {
  const on = sounds.enabled;
  soundButton.setAttribute("aria-pressed", on ? "true" : "false");
  soundButton.classList.toggle("is-on", on);
  soundButton.querySelector(".btn-label").textContent = on
    ? sounds.blocked
      ? t("sound.blocked")
      : t("sound.on")
    : t("sound.off");
}

soundButton.addEventListener("click", async () => {
  if (sounds.enabled && !sounds.blocked) {
    sounds.disable();
    store(KEYS.sound, false);
  } else {
    await sounds.enable();
    store(KEYS.sound, true);
    sounds.play("clear"); // a calm confirmation that sound works
  }
  renderSound();
});

if (load(KEYS.sound, false)) {
  // Remembered as on; browsers still need a gesture on this page before audio may start.
  sounds.enable().then(renderSound);
  const unlock = async () => {
    if (!sounds.enabled) return;
    await sounds.enable();
    renderSound();
    if (!sounds.blocked) {
      window.removeEventListener("pointerdown", unlock, true);
      window.removeEventListener("keydown", unlock, true);
    }
  };
  window.addEventListener("pointerdown", unlock, true);
  window.addEventListener("keydown", unlock, true);
}

const notifyButton = $("#notify-toggle");

function renderNotify() {
  if (!("Notification" in window)) return;
  notifyButton.hidden = false;
  const permission = Notification.permission;
  const on = permission === "granted" && load(KEYS.notify, true);
  notifyButton.disabled = permission === "denied";
  notifyButton.setAttribute("aria-pressed", on ? "true" : "false");
  notifyButton.classList.toggle("is-on", on);
  notifyButton.querySelector(".btn-label").textContent =
    permission === "denied" ? t("notify.denied") : on ? t("notify.on") : t("notify.enable");
}

notifyButton.addEventListener("click", async () => {
  if (Notification.permission === "granted") {
    store(KEYS.notify, !load(KEYS.notify, true));
  } else if (Notification.permission === "default") {
    const result = await Notification.requestPermission();
    if (result === "granted") store(KEYS.notify, true);
  }
  renderNotify();
});

// ------------------------------------------------------------------------------------------
// Language
// ------------------------------------------------------------------------------------------

const langSelect = $("#lang-select");
for (const [code, info] of Object.entries(LANGUAGES)) {
  const option = new Option(info.name, code);
  option.lang = code;
  langSelect.append(option);
}
langSelect.addEventListener("change", () => {
  state.lang = langSelect.value in LANGUAGES ? langSelect.value : "en";
  store(KEYS.lang, state.lang);
  applyLanguage();
});

function applyLanguage() {
  const lang = state.lang;
  const root = document.documentElement;
  root.lang = lang;
  root.dir = LANGUAGES[lang].dir;
  langSelect.value = lang;
  langSelect.setAttribute("aria-label", t("lang.label"));
  for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  for (const node of document.querySelectorAll("[data-i18n-placeholder]")) node.placeholder = t(node.dataset.i18nPlaceholder);
  for (const node of document.querySelectorAll("[data-i18n-aria-label]")) node.setAttribute("aria-label", t(node.dataset.i18nAriaLabel));
  for (const node of document.querySelectorAll("[data-i18n-title]")) node.title = t(node.dataset.i18nTitle);
  if (state.catalog.size) $("#catalogue-size").textContent = t("footer.catalogue", { n: state.catalog.size });
  for (const row of rows.values()) row.sig = "";
  renderConn();
  renderSound();
  renderNotify();
  renderActive();
  renderBanner();
  renderHistory();
  renderMine();
  if (!resultsList.hidden) renderResults();
  map.refresh();
}

// ------------------------------------------------------------------------------------------
// Clock
// ------------------------------------------------------------------------------------------

function tick() {
  const now = serverNow();
  for (const [location, row] of rows) {
    const incident = state.active.get(location);
    if (incident && !row.closing) tickRow(row, incident, now);
  }
  tickBanner();
}

setInterval(tick, 250);
document.addEventListener("visibilitychange", () => {
  if (!document.hidden) tick();
});

// ------------------------------------------------------------------------------------------
// Start
// ------------------------------------------------------------------------------------------

applyLanguage();
loadCatalog();
loadHistory();

// A handle for debugging from the console (and for tests to inspect); not an API.
window.alertflow = Object.freeze({
  get state() {
    return state;
  },
  socket,
  map,
});
