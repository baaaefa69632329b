// The notifier's protocol as a pure reducer (docs/protocol.md): snapshots, `alerts` batches,
// resume positions and subscriptions. No DOM, no socket, no clock: callers pass `now` and the
// catalogue, and get back what changed, so tests/js/dashboard-protocol.test.mjs runs it in Node.

import { categoryOf, mostUrgent, urgency } from "./guidance.js";

export const HISTORY_LIMIT = 300; // rows kept in the history list (per visible filter)
export const HISTORY_KEEP = 3000; // events kept in memory: 24 h of my areas on a busy day

/** A fresh model: what the server has told this page so far. */
export function createModel() {
  return {
    active: new Map(), // location -> the most urgent of its open windows (see toIncident)
    // location -> hazard -> incident: every open window of the area, one per hazard (an area
    // under rockets and an earthquake has two); `active` shows the most urgent of them.
    windows: new Map(),
    closedReason: new Map(), // location -> reason of the close whose row is fading
    epoch: null, // epoch of the last snapshot
    lastSeq: null, // position of the last event or snapshot applied
    history: [], // [{ev, key, at}]
    historyKeys: new Set(),
    // Events kept beyond HISTORY_KEEP (the user's areas): a busy country must not push them out.
    keepAlso: null,
  };
}

/** Compare two stream positions: integers, or Redis stream ids ("ms-n") should a server send them. */
export function seqCmp(a, b) {
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

// ------------------------------------------------------------------------------------------
// Subscriptions: what the server should send, and the requests that get it there
// ------------------------------------------------------------------------------------------

/**
 * My areas: those picked by hand, then those "where I am" located (prefs.here.areas), which
 * follow the person and are subscribed to like any other.
 */
export function myLocations(prefs) {
  const here = prefs.here?.areas ?? [];
  if (!here.length) return prefs.locations;
  return [...prefs.locations, ...here.filter((id) => !prefs.locations.includes(id))];
}

export function hasMine(prefs) {
  return myLocations(prefs).length + prefs.zones.length > 0;
}

export function isMine(prefs, location, zone) {
  return (
    prefs.locations.includes(location) ||
    Boolean(prefs.here?.areas?.includes(location)) ||
    (zone != null && prefs.zones.includes(zone))
  );
}

/** Everything, or exactly the chosen areas and zones. */
export function effectiveSub(prefs) {
  const { mode, zones } = prefs;
  const locations = myLocations(prefs);
  // "Only my areas" with nothing chosen would silently show nothing: show everything instead.
  if (mode === "mine" && (locations.length || zones.length)) {
    return { all: false, locations: [...locations], zones: [...zones] };
  }
  return { all: true, locations: [], zones: [] };
}

export function covers(sub, location, zone) {
  return sub.all || sub.locations.includes(location) || (zone != null && sub.zones.includes(zone));
}

export function sameSub(a, b) {
  if (!a || !b || a.all !== b.all) return false;
  const same = (x, y) => x.length === y.length && x.every((v) => y.includes(v));
  return a.all || (same(a.locations, b.locations) && same(a.zones, b.zones));
}

/** The (event, payload) pairs that turn subscription `have` into `want`. */
export function subscriptionOps(have, want) {
  if (want.all) return [["subscribe", { all: true }]];
  const ops = [];
  if (have.all) {
    // Leave "everything" first, then subscribe to the chosen areas; the last ack is the full picture.
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

/** The subscription after the server applied one (event, payload). */
export function applyOp(have, event, payload) {
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

/**
 * The Socket.IO `auth` for a (re)connection. Resume (`since`, `epoch`) only with the
 * subscription the server held: areas chosen while offline need a fresh snapshot, since their
 * windows may have opened before `since`.
 */
export function authFor(model, want, held) {
  const auth = {};
  if (model.epoch !== null && model.lastSeq !== null && held && sameSub(want, held)) {
    auth.since = model.lastSeq;
    auth.epoch = model.epoch;
  }
  if (!want.all) {
    if (want.locations.length) auth.locations = want.locations;
    if (want.zones.length) auth.zones = want.zones;
  }
  return auth;
}

// ------------------------------------------------------------------------------------------
// Incidents
// ------------------------------------------------------------------------------------------

/** Normalise an event or snapshot incident; `prev` is the same window seen before. */
export function toIncident(src, prev, catalog, now) {
  const area = catalog.get(src.location);
  const same = prev && (!src.incident_id || prev.incident_id === src.incident_id) ? prev : null;
  const categories = new Set(same ? same.categories : []);
  for (const c of src.categories ?? []) categories.add(categoryOf(c));
  if (src.category !== undefined || !categories.size) categories.add(categoryOf(src.category));
  const types = new Set(same ? same.types : []);
  for (const ty of src.types ?? []) types.add(ty);
  if (src.type) types.add(src.type);
  const issued = src.issued_at ?? src.received_at ?? src.started_at ?? null;
  const newer = !same || (issued ?? 0) >= (same.issued_at ?? 0);
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
    categories,
    // The most urgent danger of the window decides its guidance: an early warning followed by
    // a siren is a siren.
    category: mostUrgent(categories),
    // The source's own words, latest first.
    title: (newer ? src.title : null) ?? same?.title ?? src.title ?? null,
    // The name the source wrote ("ברחבי הארץ" for each area of an alert for the whole country).
    source_name: (newer ? src.source_name : null) ?? same?.source_name ?? src.source_name ?? null,
    instructions: (newer ? src.instructions : null) ?? same?.instructions ?? src.instructions ?? null,
    started_at: same?.started_at ?? src.started_at ?? issued,
    ends_at: Math.max(src.ends_at ?? 0, same?.ends_at ?? 0) || null,
    // A later siren in the same window restarts the time to shelter.
    issued_at: Math.max(issued ?? 0, same?.issued_at ?? 0) || null,
    alert_count: src.alert_count ?? same?.alert_count ?? 1,
    seenAt: same && issued !== null && issued <= same.issued_at ? same.seenAt : now,
  };
}

/** The window's hazard (older servers send none: one window per area). */
const hazardOf = (src) => (typeof src.hazard === "string" ? src.hazard : "");

/** The window an area shows: the most urgent of its open ones, the latest on a tie. */
function shownWindow(byHazard) {
  let best = null;
  for (const incident of byHazard.values()) {
    if (best === null || urgency(incident.category) < urgency(best.category)
        || (urgency(incident.category) === urgency(best.category)
            && (incident.issued_at ?? 0) > (best.issued_at ?? 0))) best = incident;
  }
  return best;
}

/** Set `model.active` from `model.windows`: one shown window per area. */
function showWindows(model) {
  const active = new Map();
  for (const [location, byHazard] of model.windows) {
    const shown = shownWindow(byHazard);
    if (shown) active.set(location, shown);
  }
  model.active = active;
}

/**
 * Replace the open windows; `keep(incident)` keeps current ones the snapshot does not name.
 * Returns the locations that left the set. The same rule as live events (`applyEvent`), so
 * the page shows the same after a reload.
 */
function replaceActive(model, incidents, catalog, now, keep = null) {
  const next = new Map();
  for (const src of incidents) {
    if (!src || typeof src.location !== "string") continue;
    const hazard = hazardOf(src);
    const prev = model.windows.get(src.location)?.get(hazard) ?? null;
    const incident = toIncident(src, prev, catalog, now);
    if (prev && prev.incident_id === incident.incident_id) incident.seenAt = prev.seenAt;
    if (!next.has(src.location)) next.set(src.location, new Map());
    next.get(src.location).set(hazard, incident);
  }
  if (keep) {
    for (const [location, byHazard] of model.windows) {
      for (const [hazard, incident] of byHazard) {
        if (next.get(location)?.has(hazard) || !keep(incident)) continue;
        if (!next.has(location)) next.set(location, new Map());
        next.get(location).set(hazard, incident);
      }
    }
  }
  const gone = [...model.active.keys()].filter((location) => !next.has(location));
  model.windows = next;
  showWindows(model);
  return gone;
}

/**
 * A `snapshot`: the active set is replaced. Returns null for a malformed one, else
 * {added: [incidents new to the page], gone: [locations], epochChanged, resync}.
 */
export function applySnapshot(model, snap, catalog, now) {
  if (!snap || !Array.isArray(snap.incidents)) return null;
  const epochChanged = model.epoch !== null && snap.epoch !== model.epoch;
  const before = new Set(model.active.keys());
  const gone = replaceActive(model, snap.incidents, catalog, now);
  model.epoch = snap.epoch ?? null;
  model.lastSeq = snap.seq ?? null;
  const added = [...model.active.values()].filter((i) => !before.has(i.location));
  return { added, gone, epochChanged, resync: Boolean(snap.resync) };
}

/**
 * The snapshot acknowledging a subscription change; `sub` is what the server now holds.
 * Returns the locations that left the active set.
 */
export function applyAck(model, ack, sub, catalog, now) {
  if (ack.epoch !== model.epoch) {
    const gone = replaceActive(model, ack.incidents, catalog, now);
    model.epoch = ack.epoch ?? null;
    model.lastSeq = ack.seq ?? null;
    return gone;
  }
  // Whether the ack lists every subscribed window or only the new areas', keeping what is
  // still covered and adding what it names gives the same, correct set.
  const gone = replaceActive(model, ack.incidents, catalog, now,
    (incident) => covers(sub, incident.location, incident.zone));
  if (ack.seq != null && (model.lastSeq === null || seqCmp(ack.seq, model.lastSeq) > 0)) model.lastSeq = ack.seq;
  return gone;
}

/** One event on the active set: 'open', 'close' (with its reason) or null when it changed nothing. */
function applyEvent(model, ev, catalog, now) {
  const location = ev.location;
  const hazard = hazardOf(ev);
  const byHazard = model.windows.get(location) ?? new Map();
  if (ev.kind === "open") {
    const prev = byHazard.get(hazard);
    model.closedReason.delete(location);
    byHazard.set(hazard, toIncident(ev, prev && prev.incident_id === ev.incident_id ? prev : null, catalog, now));
    model.windows.set(location, byHazard);
    model.active.set(location, shownWindow(byHazard));
    return "open";
  }
  if (ev.kind === "close") {
    const prev = byHazard.get(hazard);
    // A close for an older window (of this area and hazard) must not end the current one.
    if (prev && ev.incident_id && prev.incident_id && prev.incident_id !== ev.incident_id) return null;
    byHazard.delete(hazard);
    if (byHazard.size) {
      // Another hazard's window of the area is still open: the area stays under alert, now
      // showing that window (a close that changed what the area shows, not the area's end).
      if (!prev) return null;
      model.active.set(location, shownWindow(byHazard));
      return "close";
    }
    model.windows.delete(location);
    model.active.delete(location);
    model.closedReason.set(location, ev.reason);
    return "close";
  }
  return null;
}

/**
 * An `alerts` batch, in seq order. Events at or before the position reached are skipped (a
 * snapshot covered them, or the same event came twice). Returns {applied, live}: every new event
 * (for history), and those that changed the active set (for the screen, sounds, notifications).
 */
export function applyAlerts(model, batch, catalog, now) {
  const events = Array.isArray(batch) ? batch : [batch];
  const applied = [];
  const live = [];
  for (const ev of events) {
    if (!ev || typeof ev.location !== "string") continue;
    if (ev.seq != null && model.lastSeq !== null && seqCmp(ev.seq, model.lastSeq) <= 0) continue;
    if (ev.seq != null) model.lastSeq = ev.seq;
    addHistory(model, ev, model.epoch, now);
    applied.push(ev);
    // Late events (processed after their window ended) belong to history only: see DESIGN.md.
    if (ev.late) continue;
    if (applyEvent(model, ev, catalog, now)) live.push(ev);
  }
  return { applied, live };
}

// ------------------------------------------------------------------------------------------
// History
// ------------------------------------------------------------------------------------------

/** When an event happened, for the history list. */
export function eventTime(ev, now) {
  if (ev.kind === "open") return ev.issued_at ?? ev.received_at ?? ev.started_at ?? now;
  // A close happens at `ends_at`, or earlier on a cancel; never show a time in the future.
  return Math.min(ev.ends_at ?? now, now);
}

export function historyOrder(a, b) {
  return b.at - a.at || (a.ev.seq != null && b.ev.seq != null ? seqCmp(b.ev.seq, a.ev.seq) : 0);
}

/** Remember an event once (whether it came live, in a replay or from GET v1/events). */
export function addHistory(model, ev, epoch, now) {
  const key = `${epoch ?? "-"}:${ev.seq ?? `${ev.incident_id}:${ev.kind}`}`;
  if (model.historyKeys.has(key)) return false;
  model.historyKeys.add(key);
  model.history.push({ ev, key, at: eventTime(ev, now) });
  if (model.history.length > HISTORY_KEEP * 1.5) trimHistory(model);
  return true;
}

export function trimHistory(model, keep = HISTORY_KEEP) {
  model.history.sort(historyOrder);
  const older = model.history.splice(keep);
  for (const item of older) {
    if (model.keepAlso && model.history.length < keep * 2 && model.keepAlso(item.ev)) model.history.push(item);
    else model.historyKeys.delete(item.key);
  }
}
