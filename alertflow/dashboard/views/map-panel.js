// The map panel: the AreaMap (map.js) fed with the catalogue, the active set and my areas.

import { $ } from "../dom.js";
import { guidance, guidanceText } from "../guidance.js";
import { AreaIndex } from "../geo.js";
import { AreaMap } from "../map.js";
import { areaName, state, t, zoneName } from "../state.js";

let onToggleMine = () => {};

export const map = new AreaMap($("#map"), {
  describe(id) {
    const area = state.catalog.get(id);
    if (!area) return null;
    const incident = state.model.active.get(id);
    let status = "none";
    let statusLabel = t("map.status_none");
    if (incident) {
      status = guidance(incident.category).look;
      statusLabel = `${t(`kind.${status}`)} — ${guidanceText(incident.category, state.lang).label}`;
    } else if (map.state.get(id) === "clear") {
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
    onToggleMine(id);
  },
});

export function initMapPanel(toggleMine) {
  onToggleMine = toggleMine;
  $("#map-zoom-in").addEventListener("click", () => map.zoom(1.6));
  $("#map-zoom-out").addEventListener("click", () => map.zoom(1 / 1.6));
  $("#map-reset").addEventListener("click", () => map.reset());
  $("#map-show-alerts").addEventListener("click", () => map.showActive());
}

/** The map's state for an area: its incident's look, or how its window ended. */
export function syncMapArea(location, reason = null) {
  const incident = state.model.active.get(location);
  const kind = incident ? guidance(incident.category).look : reason === "cancelled" ? "clear" : "ended";
  if (map.state.get(location) !== kind) map.setState(location, kind);
}

/** Zone names on the map, in the page's language, at the centre of each zone's areas. */
export function renderZoneLabels() {
  const labels = [];
  for (const zone of state.zones.values()) {
    const areas = zone.areas.map((id) => state.catalog.get(id)).filter((a) => Number.isFinite(a?.lat));
    if (!areas.length) continue;
    const lat = areas.reduce((sum, a) => sum + a.lat, 0) / areas.length;
    const lng = areas.reduce((sum, a) => sum + a.lng, 0) / areas.length;
    labels.push({ id: zone.id, name: zoneName(zone.id, zone.names), lat, lng, areas: areas.map((a) => a.id) });
  }
  map.setZoneLabels(labels);
}

/**
 * The land and borders (geo/outline.json, bundled: they do not depend on the catalogue) and
 * each area's outline with the country (v1/locations/regions.json: the notifier builds them
 * from the catalogue it runs with, so an area a refreshed catalogue adds is drawn and found
 * too); the map works without them (dots on a silhouette). `onIndex` gets the outlines as an
 * AreaIndex (geo.js), for "where I am".
 */
export async function loadBackdrop(onIndex = () => {}) {
  const load = async (file, init = {}) => {
    try {
      const res = await fetch(file, init);
      if (res.ok) return await res.json();
    } catch (err) {
      console.warn(`alertflow: ${file} not loaded`, err?.message);
    }
    return null;
  };
  load("geo/outline.json").then((o) => {
    if (o) map.setBackdrop(o);
  });
  // Revalidated (ETag) like v1/locations: after a catalogue refresh, the map follows at once.
  const regions = await load("v1/locations/regions.json", { cache: "no-cache" });
  if (!regions) return;
  // The document carries the country beside the regions (`country`, as outline.json did).
  const index = AreaIndex.fromJSON(regions, regions);
  map.setRegions(index);
  onIndex(index);
}

export function showOnMap(location) {
  map.focusArea(location);
  const section = $("#map-section");
  const box = section.getBoundingClientRect();
  if (box.top < 0 || box.bottom > window.innerHeight) section.scrollIntoView({ behavior: "smooth", block: "start" });
}
