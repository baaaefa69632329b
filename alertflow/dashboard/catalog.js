// The area catalogue (GET v1/locations): names, zones and shelter times, and the search over
// every name in every language.

import { myLocations } from "./protocol.js";
import { state } from "./state.js";

// The whole country, as the national feed names it (the catalogue's records without a zone).
const COUNTRY_NAMES = ["ברחבי הארץ", "כל הארץ"];
const nationwideCache = new Map();

/** Whether an incident is part of an alert for the whole country. */
export function isNationwide(incident) {
  const name = incident?.source_name;
  if (!name) return false;
  let yes = nationwideCache.get(name);
  if (yes === undefined) {
    yes = state.countryNames.has(normalize(name));
    nationwideCache.set(name, yes);
  }
  return yes;
}

/** Fold case, accents, Hebrew points and Arabic letter variants, so any spelling finds a place. */
export function normalize(text) {
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

/**
 * Fill state.catalog, state.zones and the search index from the catalogue's records, with the
 * alias table's other names (GET v1/aliases: a key is an area, a zone, or a split city whose
 * areas are named "CITY - …").
 */
export function setCatalog(records, aliases = {}) {
  state.catalog.clear();
  state.zones.clear();
  for (const r of records) {
    if (!r || typeof r.id !== "string") continue;
    const zoneNames = r.zone && typeof r.zone === "object" ? r.zone : r.zone ? { he: String(r.zone) } : {};
    const zoneId = zoneNames.he ?? Object.values(zoneNames)[0] ?? null;
    const area = {
      id: r.id,
      name: r.name ?? r.names ?? {},
      aliases: [],
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
  const zoneAliases = {};
  for (const [key, names] of Object.entries(aliases)) {
    if (!Array.isArray(names)) continue;
    if (state.zones.has(key)) zoneAliases[key] = names;
    for (const area of state.catalog.values()) {
      if (area.id === key || area.id.startsWith(`${key} -`)) area.aliases.push(...names);
    }
  }
  // Names of the whole country: the national feed's two, and their other names in the alias
  // table. An alert for one of them arrives as one event per area, each with that source_name.
  state.countryNames = new Set();
  for (const name of COUNTRY_NAMES) {
    state.countryNames.add(normalize(name));
    for (const other of aliases[name] ?? []) state.countryNames.add(normalize(other));
  }
  nationwideCache.clear();
  // What a saved name from an older list means today: an area's own names first, then the
  // names it had before (former_names: "אבו-גוש" and "Abu Ghosh" are today's "אבו גוש").
  state.successors = new Map();
  const successor = (name, id) => {
    const key = normalize(name);
    if (!key) return;
    if (!state.successors.has(key)) state.successors.set(key, []);
    if (!state.successors.get(key).includes(id)) state.successors.get(key).push(id);
  };
  for (const area of state.catalog.values()) for (const name of [area.id, ...Object.values(area.name)]) successor(name, area.id);
  const own = new Set(state.successors.keys());
  for (const r of records) {
    if (!r || !state.catalog.has(r.id) || !Array.isArray(r.former_names)) continue;
    for (const name of r.former_names) if (!own.has(normalize(name))) successor(name, r.id);
  }
  state.searchIndex = [
    ...[...state.zones.values()].map((z) => ({
      type: "zone",
      id: z.id,
      names: z.names,
      labels: [z.id, ...Object.values(z.names), ...(zoneAliases[z.id] ?? [])],
    })),
    ...[...state.catalog.values()].map((a) => ({
      type: "area",
      id: a.id,
      names: a.name,
      labels: [a.id, ...Object.values(a.name), ...a.aliases],
    })),
  ];
  for (const entry of state.searchIndex) {
    entry.keys = entry.labels.map(normalize);
    // One string per area and zone for the operator's filter (any language, any alias).
    (entry.type === "zone" ? state.zones : state.catalog).get(entry.id).keys = entry.keys.join("\n");
  }
}

/** Areas and zones whose names match `query`, best first: exact, prefix, word, anywhere. */
export function search(query, limit = 12) {
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
  return scored.slice(0, limit);
}

/**
 * Saved areas from an older catalogue (a page last opened before 2026: ids like "אבו-גוש")
 * become today's areas; returns whether anything changed. Names nothing knows are kept: the
 * server may still resolve them.
 */
export function migrateSaved(prefs) {
  if (!state.catalog.size) return false;
  let changed = false;
  const today = (id) => {
    if (state.catalog.has(id)) return [id];
    const next = state.successors.get(normalize(id));
    if (!next) return [id];
    changed = true;
    return next;
  };
  const locations = [...new Set(prefs.locations.flatMap(today))];
  const here = prefs.here.areas.filter((id) => state.catalog.has(id));
  if (here.length !== prefs.here.areas.length) changed = true;
  prefs.locations = locations;
  prefs.here.areas = here;
  return changed;
}

/** The areas of my areas and zones. */
export function mineAreaIds() {
  const ids = new Set(myLocations(state.prefs));
  for (const zone of state.prefs.zones) for (const id of state.zones.get(zone)?.areas ?? []) ids.add(id);
  return ids;
}
