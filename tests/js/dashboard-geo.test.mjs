// "Where I am" on the device (alertflow/dashboard/geo.js) over the bundled catalogue's outlines
// (as the notifier serves them at v1/locations/regions.json, built by alertflow/map_data.py:
// run here through the project's Python, .venv/bin/python or $PYTHON), in Node.
// Run: node --experimental-detect-module --test tests/js/
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { test } from "node:test";

import { AreaIndex, MAX_SPEED_KMH, decodeRing, distanceM, judgeFix } from "../../alertflow/dashboard/geo.js";

const read = (path) => JSON.parse(readFileSync(new URL(`../../${path}`, import.meta.url), "utf8"));
const catalogue = read("alertflow/data/areas-il-2026.json").filter((r) => r.zone);
const root = fileURLToPath(new URL("../../", import.meta.url));
const venv = `${root}.venv/bin/python`;
const python = process.env.PYTHON ?? (existsSync(venv) ? venv : "python3");
const served = JSON.parse(execFileSync(python, ["-m", "alertflow.map_data"], { cwd: root, maxBuffer: 1 << 26 }));
const index = AreaIndex.fromJSON(served, served);

const ABU_GOSH = "אבו גוש";
// Inside Abu Gosh's outline, 1.5 km from its centre: Yad HaShmona's centre is nearer (0.8 km),
// so a nearest-point guess would name the wrong village.
const IN_ABU_GOSH = { lat: 31.81223, lng: 35.09606 };
const BEIRUT = { lat: 33.89, lng: 35.5 };
const T0 = 1_800_000_000_000;

test("a ring decodes from the Encoded Polyline Algorithm Format, x first", () => {
  // Google's documented example, at its precision (1e5).
  assert.deepEqual([...decodeRing("_p~iF~ps|U_ulLnnqC_mqNvxq`@", 1e5)], [38.5, -120.2, 40.7, -120.95, 43.252, -126.453]);
});

test("every area of the catalogue has an outline that holds its own point", () => {
  assert.equal(catalogue.length, 1449);
  for (const area of catalogue) {
    assert.ok(index.has(area.id), area.id);
    assert.ok(index.at(area.lat, area.lng).includes(area.id), `${area.id}: its point is outside its outline`);
  }
});

test("a point inside an area but far from its centre finds that area, not the nearest centre", () => {
  assert.deepEqual(index.at(IN_ABU_GOSH.lat, IN_ABU_GOSH.lng), [ABU_GOSH]);
  const nearest = catalogue.reduce((best, a) =>
    distanceM(a.lat, a.lng, IN_ABU_GOSH.lat, IN_ABU_GOSH.lng) < distanceM(best.lat, best.lng, IN_ABU_GOSH.lat, IN_ABU_GOSH.lng) ? a : best);
  assert.notEqual(nearest.id, ABU_GOSH);
  assert.equal(index.distance(ABU_GOSH, IN_ABU_GOSH.lat, IN_ABU_GOSH.lng), 0);
  // Neighbours within 2 km: the area itself first, then others.
  const near = index.near(IN_ABU_GOSH.lat, IN_ABU_GOSH.lng, 2000);
  assert.equal(near[0], ABU_GOSH);
  assert.ok(near.length > 1 && near.includes(nearest.id));
});

test("Beirut and Cairo are outside the country; the sea off Tel Aviv is in no area", () => {
  assert.equal(index.inCountry(BEIRUT.lat, BEIRUT.lng), false);
  assert.equal(index.inCountry(30.04, 31.24), false);
  assert.equal(index.inCountry(IN_ABU_GOSH.lat, IN_ABU_GOSH.lng), true);
  assert.deepEqual(index.at(32.08, 34.6), []);
});

test("judgeFix: an area, then a jump abroad ignored, then the area after a believable drive", () => {
  const fix = (p, seconds, accuracy = 15) => ({ ...p, accuracy, at: T0 + seconds * 1000 });
  const first = judgeFix(index, { last: null, areas: [], areasAt: 0 }, fix(IN_ABU_GOSH, 0));
  assert.deepEqual([first.ok, first.areas], [true, [ABU_GOSH]]);

  const track = { last: fix(IN_ABU_GOSH, 0), areas: first.areas, areasAt: T0 };
  const jump = judgeFix(index, track, fix(BEIRUT, 5));
  assert.equal(jump.ok, false);
  assert.equal(jump.reason, "jump");
  assert.ok(jump.km > 100 && jump.seconds === 5);

  // Abroad as the very first position (no jump to measure): outside the country.
  assert.equal(judgeFix(index, { last: null, areas: [] }, fix(BEIRUT, 0)).reason, "outside_country");
  // A cell tower's guess is no position.
  assert.equal(judgeFix(index, { last: null, areas: [] }, fix(IN_ABU_GOSH, 0, 5000)).reason, "imprecise");
  // Between towns: believable (the next jump is measured from here), but in no area.
  const sea = judgeFix(index, track, fix({ lat: 31.79, lng: 35.0 }, 600));
  assert.deepEqual([sea.ok, sea.reason, sea.believable], [false, "outside_areas", true]);

  // Ashkelon South, ~55 km away: a jump after one minute, a drive after an hour.
  const ashkelon = catalogue.find((a) => a.id === "אשקלון - דרום");
  assert.equal(judgeFix(index, track, fix(ashkelon, 60)).reason, "jump");
  const drive = judgeFix(index, track, fix(ashkelon, 3600));
  assert.deepEqual([drive.ok, drive.areas], [true, [ashkelon.id]]);
  const km = distanceM(IN_ABU_GOSH.lat, IN_ABU_GOSH.lng, ashkelon.lat, ashkelon.lng) / 1000;
  assert.ok(km / (60 / 3600) > MAX_SPEED_KMH && km < MAX_SPEED_KMH);
});

test("judgeFix after a reload: a jump is measured from the areas located before", () => {
  const track = { last: null, areas: [ABU_GOSH], areasAt: T0 };
  assert.equal(judgeFix(index, track, { ...BEIRUT, accuracy: 10, at: T0 + 30_000 }).reason, "jump");
  // Nearby areas join when asked, the one holding the position first.
  const verdict = judgeFix(index, track, { ...IN_ABU_GOSH, accuracy: 10, at: T0 + 30_000 }, 1000);
  assert.equal(verdict.areas[0], ABU_GOSH);
  assert.ok(verdict.areas.length > 1);
});
