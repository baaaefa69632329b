// The areas' outlines on the device: decoding v1/locations/regions.json, which area holds a point, how
// far a point is from an area, and whether a position from the device's GPS is believable.
// No DOM, no network: "where I am" runs here, so the position never leaves the page; and
// tests/js/dashboard-geo.test.mjs runs it in Node.

const M_PER_DEG = (Math.PI / 180) * 6371008.8; // metres per degree of latitude (mean radius)

// "Where I am" (judgeFix): what a person's position can believably do.
export const MAX_SPEED_KMH = 300; // far beyond a car's: a faster move is GPS jamming or spoofing
export const JUMP_SLACK_M = 1000; // plus both fixes' accuracy: GPS wanders, a phone wakes late
export const MAX_ACCURACY_M = 3000; // a coarser fix (a cell tower's guess) could be any town

/** One ring of v1/locations/regions.json (Encoded Polyline, [lng, lat] × precision) as [lng, lat, …]. */
export function decodeRing(text, precision) {
  const out = [];
  let x = 0;
  let y = 0;
  let i = 0;
  const next = () => {
    let result = 0;
    let shift = 0;
    let b;
    do {
      b = text.charCodeAt(i++) - 63;
      result |= (b & 0x1f) << shift;
      shift += 5;
    } while (b >= 0x20);
    return result & 1 ? ~(result >> 1) : result >> 1;
  };
  while (i < text.length) {
    x += next();
    y += next();
    out.push(x / precision, y / precision);
  }
  return Float64Array.from(out);
}

/** Metres between two positions (haversine). */
export function distanceM(lat1, lng1, lat2, lng2) {
  const rad = Math.PI / 180;
  const dLat = (lat2 - lat1) * rad;
  const dLng = (lng2 - lng1) * rad;
  const a = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dLng / 2) ** 2;
  return 2 * 6371008.8 * Math.asin(Math.min(1, Math.sqrt(a)));
}

// Even-odd rule over every ring: holes and islands of one area come out right.
function ringsContain(rings, lng, lat) {
  let inside = false;
  for (const r of rings) {
    const n = r.length;
    for (let i = 0, j = n - 2; i < n; j = i, i += 2) {
      const yi = r[i + 1];
      const yj = r[j + 1];
      if (yi > lat !== yj > lat && lng < ((r[j] - r[i]) * (lat - yi)) / (yj - yi) + r[i]) inside = !inside;
    }
  }
  return inside;
}

function bounds(rings) {
  let [x0, y0, x1, y1] = [Infinity, Infinity, -Infinity, -Infinity];
  for (const r of rings) {
    for (let i = 0; i < r.length; i += 2) {
      if (r[i] < x0) x0 = r[i];
      if (r[i] > x1) x1 = r[i];
      if (r[i + 1] < y0) y0 = r[i + 1];
      if (r[i + 1] > y1) y1 = r[i + 1];
    }
  }
  return [x0, y0, x1, y1];
}

/** The areas' outlines, ready for questions about points. */
export class AreaIndex {
  /**
   * @param {Map<string, Float64Array[]>} regions area id -> rings ([lng, lat, …], open)
   * @param {Float64Array[] | null} country the country's rings (geo/outline.json), if known
   */
  constructor(regions, country = null) {
    this.regions = regions;
    this.ids = [...regions.keys()];
    this.boxes = this.ids.map((id) => bounds(regions.get(id)));
    this.country = country?.length ? country : null;
    this.countryBox = this.country ? bounds(this.country) : null;
  }

  /** From v1/locations/regions.json ({precision, regions: {id: [ring]}}) and a {country: [ring]}. */
  static fromJSON(data, outline = null) {
    const precision = Number(data?.precision) || 1000;
    const regions = new Map();
    for (const [id, rings] of Object.entries(data?.regions ?? {})) {
      // Rings as encoded strings (today's file) or as [[lng, lat], …] arrays.
      const decoded = rings.map((ring) =>
        typeof ring === "string" ? decodeRing(ring, precision) : Float64Array.from(ring.slice(0, -1).flat()),
      );
      if (decoded.length) regions.set(id, decoded);
    }
    const country = outline?.country?.map((ring) => Float64Array.from(ring.flat())) ?? null;
    return new AreaIndex(regions, country);
  }

  has(id) {
    return this.regions.has(id);
  }

  rings(id) {
    return this.regions.get(id);
  }

  /** The areas whose outline holds the point (one, or none; two only where outlines overlap). */
  at(lat, lng) {
    const found = [];
    for (let k = 0; k < this.ids.length; k++) {
      const [x0, y0, x1, y1] = this.boxes[k];
      if (lng < x0 || lng > x1 || lat < y0 || lat > y1) continue;
      if (ringsContain(this.regions.get(this.ids[k]), lng, lat)) found.push(this.ids[k]);
    }
    return found;
  }

  /** Metres from the point to the area's outline; 0 inside it, Infinity for an unknown area. */
  distance(id, lat, lng) {
    const rings = this.regions.get(id);
    if (!rings) return Infinity;
    if (ringsContain(rings, lng, lat)) return 0;
    // Local flat projection around the point: exact enough over tens of kilometres.
    const kx = Math.cos((lat * Math.PI) / 180) * M_PER_DEG;
    let best = Infinity;
    for (const r of rings) {
      const n = r.length;
      for (let i = 0, j = n - 2; i < n; j = i, i += 2) {
        const ax = (r[j] - lng) * kx;
        const ay = (r[j + 1] - lat) * M_PER_DEG;
        const bx = (r[i] - lng) * kx;
        const by = (r[i + 1] - lat) * M_PER_DEG;
        const dx = bx - ax;
        const dy = by - ay;
        const len = dx * dx + dy * dy;
        const t = len ? Math.max(0, Math.min(1, -(ax * dx + ay * dy) / len)) : 0;
        const d = Math.hypot(ax + t * dx, ay + t * dy);
        if (d < best) best = d;
      }
    }
    return best;
  }

  /** The areas within `metres` of the point (those holding it included), nearest first. */
  near(lat, lng, metres) {
    const dLat = metres / M_PER_DEG;
    const dLng = metres / (Math.cos((lat * Math.PI) / 180) * M_PER_DEG);
    const found = [];
    for (let k = 0; k < this.ids.length; k++) {
      const [x0, y0, x1, y1] = this.boxes[k];
      if (lng < x0 - dLng || lng > x1 + dLng || lat < y0 - dLat || lat > y1 + dLat) continue;
      const d = this.distance(this.ids[k], lat, lng);
      if (d <= metres) found.push([d, this.ids[k]]);
    }
    return found.sort((a, b) => a[0] - b[0]).map(([, id]) => id);
  }

  /** Whether the point is in the country; null when the country's outline is not known. */
  inCountry(lat, lng) {
    if (!this.country) return null;
    const [x0, y0, x1, y1] = this.countryBox;
    if (lng < x0 || lng > x1 || lat < y0 || lat > y1) return false;
    return ringsContain(this.country, lng, lat);
  }
}

/**
 * Whether to believe a position from the device, and which areas it puts the person in.
 *
 * `fix`: {lat, lng, accuracy (m), at (ms)}. `track`: what was believed before —
 * {last: the last believable fix or null, areas: the located areas, areasAt: when they were
 * located (ms)}. `radius`: metres around the position whose areas join too (0: none).
 *
 * Returns {ok, reason, areas, km, seconds}: ok with the areas the position is in; else the
 * reason it is ignored ("imprecise", "jump", "outside_country", "outside_areas") and the last
 * good areas stay. `believable` says whether the fix may serve as the next jump's reference
 * (a person between two towns is believable, just not in an area).
 */
export function judgeFix(index, track, fix, radius = 0) {
  const { lat, lng } = fix;
  const accuracy = Number.isFinite(fix.accuracy) ? fix.accuracy : 0;
  if (!Number.isFinite(lat) || !Number.isFinite(lng)) return { ok: false, reason: "imprecise", believable: false };
  if (accuracy > MAX_ACCURACY_M) return { ok: false, reason: "imprecise", believable: false, km: accuracy / 1000 };
  // A jump: farther from the last believable fix (or, after a reload, from the areas located
  // then) than a car could have gone since, give or take both fixes' accuracy.
  let from = null;
  if (track.last) {
    from = {
      metres: distanceM(track.last.lat, track.last.lng, lat, lng) - (track.last.accuracy ?? 0),
      since: fix.at - track.last.at,
    };
  } else if (track.areas?.length && track.areasAt) {
    from = { metres: Math.min(...track.areas.map((id) => index.distance(id, lat, lng))), since: fix.at - track.areasAt };
  }
  if (from && Number.isFinite(from.metres)) {
    const reach = (MAX_SPEED_KMH / 3.6) * Math.max(0, from.since) / 1000 + JUMP_SLACK_M + accuracy;
    if (from.metres > reach) {
      return { ok: false, reason: "jump", believable: false, km: from.metres / 1000, seconds: Math.max(0, from.since) / 1000 };
    }
  }
  if (index.inCountry(lat, lng) === false) return { ok: false, reason: "outside_country", believable: false };
  const inside = index.at(lat, lng);
  if (!inside.length) return { ok: false, reason: "outside_areas", believable: true };
  const areas = radius > 0 ? [...new Set([...inside, ...index.near(lat, lng, radius)])] : inside;
  return { ok: true, reason: null, believable: true, areas };
}
