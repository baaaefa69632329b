// The area catalogue (GET v1/locations): names, zones and shelter times, and the search over
// every name in every language.

import { state } from "./state.js";

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

/** The areas of my areas and zones. */
export function mineAreaIds() {
  const ids = new Set(state.prefs.locations);
  for (const zone of state.prefs.zones) for (const id of state.zones.get(zone)?.areas ?? []) ids.add(id);
  return ids;
}
