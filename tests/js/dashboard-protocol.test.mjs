// The dashboard's protocol reducer (alertflow/dashboard/protocol.js) and guidance table, in Node:
// no browser, no server. Run: node --experimental-detect-module --test tests/js/
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  GUIDANCE, URGENCY, categoryOf, guidance, guidanceText, mostUrgent,
} from "../../alertflow/dashboard/guidance.js";
import {
  addHistory, applyAck, applyAlerts, applyOp, applySnapshot, authFor, createModel, effectiveSub,
  hasMine, historyOrder, isMine, myLocations, sameSub, seqCmp, subscriptionOps, toIncident, trimHistory,
} from "../../alertflow/dashboard/protocol.js";

const NOW = 1_800_000_000_000;
const catalog = new Map([
  ["אשקלון", { id: "אשקלון", name: { en: "Ashkelon" }, zoneId: "לכיש", zone: { en: "Lakhish" }, shelter_seconds: 30 }],
]);

function open(seq, location, extra = {}) {
  return { seq, kind: "open", location, incident_id: `i-${location}`, category: "missiles",
    issued_at: NOW - 1000, ends_at: NOW + 60_000, ...extra };
}

function close(seq, location, extra = {}) {
  return { seq, kind: "close", location, incident_id: `i-${location}`, reason: "expired", ends_at: NOW, ...extra };
}

test("a snapshot replaces the active set and sets the position", () => {
  const model = createModel();
  applyAlerts(model, [open(1, "a"), open(2, "b")], catalog, NOW);
  const result = applySnapshot(model, { epoch: "e1", seq: 10, incidents: [open(null, "b"), open(null, "c")] }, catalog, NOW);
  assert.deepEqual([...model.active.keys()].sort(), ["b", "c"]);
  assert.deepEqual(result.gone, ["a"]);
  assert.deepEqual(result.added.map((i) => i.location), ["c"]);
  assert.equal(model.lastSeq, 10);
  assert.equal(model.epoch, "e1");
  assert.equal(applySnapshot(model, { incidents: "nope" }, catalog, NOW), null);
});

test("a snapshot from another epoch says so", () => {
  const model = createModel();
  applySnapshot(model, { epoch: "e1", seq: 3, incidents: [] }, catalog, NOW);
  assert.equal(applySnapshot(model, { epoch: "e2", seq: 1, incidents: [], resync: true }, catalog, NOW).epochChanged, true);
  assert.equal(model.lastSeq, 1);
});

test("events at or before the position are skipped: no duplicate after a snapshot or a replay", () => {
  const model = createModel();
  applySnapshot(model, { epoch: "e", seq: 5, incidents: [] }, catalog, NOW);
  const { applied, live } = applyAlerts(model, [open(4, "old"), open(5, "same"), open(6, "new"), open(6, "new")], catalog, NOW);
  assert.deepEqual(applied.map((e) => e.location), ["new"]);
  assert.deepEqual(live.map((e) => e.location), ["new"]);
  assert.equal(model.lastSeq, 6);
  assert.equal(model.history.length, 1);
});

test("a close ends its own window only", () => {
  const model = createModel();
  applyAlerts(model, [open(1, "a", { incident_id: "w2" })], catalog, NOW);
  applyAlerts(model, [close(2, "a", { incident_id: "w1" })], catalog, NOW); // an older window's
  assert.ok(model.active.has("a"));
  applyAlerts(model, [close(3, "a", { incident_id: "w2", reason: "cancelled" })], catalog, NOW);
  assert.ok(!model.active.has("a"));
  assert.equal(model.closedReason.get("a"), "cancelled");
});

test("late events go to history only", () => {
  const model = createModel();
  const { applied, live } = applyAlerts(model, [open(1, "a", { late: true }), close(2, "a", { late: true })], catalog, NOW);
  assert.equal(applied.length, 2);
  assert.equal(live.length, 0);
  assert.equal(model.active.size, 0);
  assert.equal(model.history.length, 2);
});

test("an incident takes names, zone and shelter time from the catalogue, and its category", () => {
  const model = createModel();
  applyAlerts(model, [open(1, "אשקלון", { category: "earthquake", title: "Earthquake felt", instructions: "Go outside" })], catalog, NOW);
  const incident = model.active.get("אשקלון");
  assert.equal(incident.zone, "לכיש");
  assert.equal(incident.shelter_seconds, 30);
  assert.equal(incident.category, "earthquake");
  assert.equal(incident.title, "Earthquake felt");
  assert.equal(incident.instructions, "Go outside");
});

test("the most urgent category of a window decides: an early warning then a siren is a siren", () => {
  const model = createModel();
  applyAlerts(model, [open(1, "a", { category: "early_warning" })], catalog, NOW);
  assert.equal(model.active.get("a").category, "early_warning");
  applyAlerts(model, [open(2, "a", { category: "missiles", issued_at: NOW })], catalog, NOW);
  assert.equal(model.active.get("a").category, "missiles");
  assert.equal(model.active.get("a").issued_at, NOW); // the later siren restarts the countdown
});

test("an event without a known category is general, whatever its type says", () => {
  const model = createModel();
  applyAlerts(model, [open(1, "a", { category: undefined, type: "missiles" }), open(2, "b", { category: "bogus" })], catalog, NOW);
  assert.equal(model.active.get("a").category, "general");
  assert.equal(model.active.get("b").category, "general");
});

test("an ack in the same epoch keeps what the subscription still covers", () => {
  const model = createModel();
  applySnapshot(model, { epoch: "e", seq: 5, incidents: [open(null, "a", { zone: "Z" }), open(null, "b", { zone: "Y" })] }, catalog, NOW);
  const sub = { all: false, locations: [], zones: ["Z", "X"] };
  const gone = applyAck(model, { epoch: "e", seq: 7, incidents: [open(null, "c", { zone: "X" })] }, sub, catalog, NOW);
  assert.deepEqual([...model.active.keys()].sort(), ["a", "c"]);
  assert.deepEqual(gone, ["b"]);
  assert.equal(model.lastSeq, 7);
});

test("resume sends since/epoch only with the subscription the server held", () => {
  const model = createModel();
  const all = effectiveSub({ mode: "all", locations: [], zones: [] });
  assert.deepEqual(authFor(model, all, all), {});
  applySnapshot(model, { epoch: "e", seq: 9, incidents: [] }, catalog, NOW);
  assert.deepEqual(authFor(model, all, all), { since: 9, epoch: "e" });
  const mine = effectiveSub({ mode: "mine", locations: ["a"], zones: ["Z"] });
  assert.deepEqual(authFor(model, mine, all), { locations: ["a"], zones: ["Z"] });
  assert.deepEqual(authFor(model, mine, mine), { since: 9, epoch: "e", locations: ["a"], zones: ["Z"] });
});

test("subscription changes: the ops reach the wanted set", () => {
  const cases = [
    [{ all: true, locations: [], zones: [] }, { all: false, locations: ["a"], zones: ["Z"] }],
    [{ all: false, locations: ["a", "b"], zones: [] }, { all: false, locations: ["b", "c"], zones: ["Z"] }],
    [{ all: false, locations: ["a"], zones: [] }, { all: true, locations: [], zones: [] }],
  ];
  for (const [have, want] of cases) {
    let now = have;
    for (const [event, payload] of subscriptionOps(have, want)) now = applyOp(now, event, payload);
    assert.ok(sameSub(now, want), JSON.stringify({ have, want, now }));
  }
  // "Only my areas" with nothing chosen shows everything rather than nothing.
  assert.equal(effectiveSub({ mode: "mine", locations: [], zones: [] }).all, true);
});

test("stream positions compare as numbers or Redis ids", () => {
  assert.ok(seqCmp(9, 10) < 0);
  assert.ok(seqCmp("1700-1", "1700-0") > 0);
  assert.equal(seqCmp("5-0", "5-0"), 0);
});

test("history: one entry per event, newest first, my areas kept when trimmed", () => {
  const model = createModel();
  assert.ok(addHistory(model, open(1, "a"), "e", NOW));
  assert.ok(!addHistory(model, open(1, "a"), "e", NOW)); // the same event from GET v1/events
  for (let i = 2; i < 20; i++) addHistory(model, open(i, i === 2 ? "mine" : `x${i}`, { issued_at: NOW + i }), "e", NOW);
  model.keepAlso = (ev) => ev.location === "mine";
  trimHistory(model, 5);
  assert.equal(model.history.filter((h) => h.ev.location !== "mine").length, 5);
  assert.ok(model.history.some((h) => h.ev.location === "mine"));
  const sorted = [...model.history].sort(historyOrder);
  assert.deepEqual(sorted.map((h) => h.ev.seq), model.history.map((h) => h.ev.seq));
});

test("guidance: a countdown only for missiles, hostile aircraft and infiltration", () => {
  const withCountdown = Object.keys(GUIDANCE).filter((c) => guidance(c).shelter).sort();
  assert.deepEqual(withCountdown, ["hostile_aircraft", "infiltration", "missiles"]);
  for (const c of ["earthquake", "tsunami", "hazmat", "radiological", "nonconventional"]) {
    assert.equal(guidance(c).look, "hazard", c);
  }
  assert.equal(guidance("drill").look, "drill");
  assert.match(guidanceText("early_warning", "en").action, /near a protected space/);
  assert.equal(guidanceText("drill", "en").label, "Drill");
});

test("guidance: every category, every language, and one urgency order", () => {
  const ids = ["missiles", "hostile_aircraft", "earthquake", "tsunami", "infiltration", "hazmat",
    "nonconventional", "radiological", "early_warning", "all_clear", "general", "drill"];
  assert.deepEqual(Object.keys(GUIDANCE).sort(), [...ids].sort());
  assert.deepEqual([...URGENCY].sort(), [...ids].sort());
  for (const id of ids) {
    for (const lang of ["he", "en", "ru", "ar"]) {
      assert.ok(GUIDANCE[id].label[lang]?.length, `${id} label ${lang}`);
      assert.ok(GUIDANCE[id].action[lang]?.length, `${id} action ${lang}`);
    }
  }
  assert.equal(categoryOf("nope"), "general");
  assert.equal(categoryOf(undefined), "general");
  assert.equal(mostUrgent(["drill", "earthquake", "early_warning"]), "earthquake");
  assert.equal(mostUrgent([]), "general");
});

test("areas located \"where I am\" are my areas too, subscribed like those picked by hand", () => {
  const prefs = { mode: "mine", locations: ["a"], zones: [], here: { on: true, areas: ["b", "a"] } };
  assert.deepEqual(myLocations(prefs), ["a", "b"]);
  assert.ok(isMine(prefs, "b", null) && hasMine({ ...prefs, locations: [] }));
  assert.deepEqual(effectiveSub(prefs), { all: false, locations: ["a", "b"], zones: [] });
  // Following stopped: only the hand-picked area is left.
  assert.deepEqual(effectiveSub({ ...prefs, here: { on: false, areas: [] } }).locations, ["a"]);
});

test("an incident keeps the name its source wrote (the whole country's, for a nationwide alert)", () => {
  const incident = toIncident(open(1, "אשקלון", { source_name: "ברחבי הארץ" }), null, catalog, NOW);
  assert.equal(incident.source_name, "ברחבי הארץ");
  const later = toIncident(open(2, "אשקלון", { issued_at: NOW }), incident, catalog, NOW);
  assert.equal(later.source_name, "ברחבי הארץ");
});

test("two hazards of one area: the most urgent shows, and one's end never hides the other", () => {
  const rockets = open(1, "a", { hazard: "aerial", incident_id: "i-r", category: "missiles" });
  const quake = open(2, "a", { hazard: "earthquake", incident_id: "i-q", category: "earthquake" });
  const live = createModel();
  applyAlerts(live, [rockets, quake], catalog, NOW);
  // After a reload the snapshot lists both windows: the page shows the same.
  const reloaded = createModel();
  applySnapshot(reloaded, { epoch: "e", seq: 2, incidents: [quake, rockets] }, catalog, NOW);
  for (const model of [live, reloaded]) {
    assert.equal(model.active.get("a").incident_id, "i-r");  // rockets before an earthquake
    assert.deepEqual([...model.windows.get("a").keys()].sort(), ["aerial", "earthquake"]);
  }
  // The earthquake's window ending first leaves the area under the rockets' alert.
  const quakeEnd = close(3, "a", { hazard: "earthquake", incident_id: "i-q" });
  applyAlerts(live, [quakeEnd], catalog, NOW);
  assert.equal(live.active.get("a").incident_id, "i-r");
  assert.equal(live.closedReason.has("a"), false);
  // And the rockets' all-clear, applied while the earthquake is still open, shows the quake.
  applyAlerts(reloaded, [close(3, "a", { hazard: "aerial", incident_id: "i-r", reason: "cancelled" })],
    catalog, NOW);
  assert.equal(reloaded.active.get("a").incident_id, "i-q");
  applyAlerts(live, [close(4, "a", { hazard: "aerial", incident_id: "i-r" })], catalog, NOW);
  assert.equal(live.active.has("a"), false);
  assert.equal(live.closedReason.get("a"), "expired");
});
