// The area map: every catalogue area as a dot on an SVG, placed by an equirectangular
// projection fitted to the catalogue's bounding box. No tiles, no network.
//
// Each area is one <circle class="area" data-location="ID">. Its state is a class:
//   active kind-alert  — under alert (red, filled, pulses a few times when it starts)
//   active kind-early  — early warning (amber, with a diamond outline)
//   cleared            — all-clear (green hollow ring) for a few seconds
//   (none)             — quiet; removing "active" lets CSS fade the dot back to grey
//   fading             — a window just ended: CSS fades the dot back to grey
// Shapes differ as well as colours, so colour is never the only cue.
//
// With v1/locations/regions.json (built by the notifier from its catalogue's outlines, decoded
// by geo.js) each area also has its real outline, <path class="region"
// data-region="ID">, carrying the same state classes as its dot; a tap inside it selects it.
// When the view is wider than CLUSTER_W of the country, zone names would overlap: the zones
// are drawn as clusters instead (a disc with the number of areas, or of areas under alert),
// merged greedily until no two overlap on screen.

const SVG_NS = "http://www.w3.org/2000/svg";
const WIDTH = 1000; // user units across the catalogue's longitude span
const PAD = 40; // user units of margin around the catalogue's bounding box
const CLEAR_MS = 8000; // how long an all-clear stays green
const FADE_MS = 3000; // matches the CSS transition on .area
const MAX_ZOOM = 40;
const HIT_PX = 14; // pointer distance (screen px) that still "touches" an area
const PULSE_MS = 5400; // three 1.8 s pulses (see .pulse in style.css)
const MAX_PULSES = 60; // in a barrage, animating every dot costs more than it tells
// An area under alert has the look of its category (guidance.js); a drill does not pulse.
const ACTIVE_LOOKS = ["alert", "hazard", "early", "info", "drill"];
const CLUSTER_W = 0.45; // zoomed out past this share of the country: clusters, not names
const CLUSTER_PX = 30; // a cluster's diameter on screen (px); centres closer than this merge

function el(name, attrs = {}, parent = null) {
  const node = document.createElementNS(SVG_NS, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (parent) parent.appendChild(node);
  return node;
}

// Folds cluster `other` into `into`: the centre weighted by their areas, counts and names added.
function mergeCluster(into, other) {
  const n = into.n + other.n;
  into.x = (into.x * into.n + other.x * other.n) / (n || 1);
  into.y = (into.y * into.n + other.y * other.n) / (n || 1);
  into.n = n;
  into.alerts += other.alerts;
  into.names.push(...other.names);
}

export class AreaMap {
  /**
   * @param {HTMLElement} root container (#map); gets the SVG and the tooltip
   * @param {{describe: (id: string) => object, onToggleMine: (id: string) => void}} hooks
   */
  constructor(root, hooks) {
    this.root = root;
    this.hooks = hooks;
    this.ids = [];
    this.xs = new Float64Array(0);
    this.ys = new Float64Array(0);
    this.index = new Map();
    this.dots = [];
    this.regions = []; // index -> <path> or undefined
    this.state = new Map(); // id -> "alert" | "early" | "clear" | "ended"
    this.timers = new Map();
    this.marks = new Map(); // id -> [overlay elements]
    this.mine = new Set();
    this.pinned = null;
    this.pulsing = 0;
    this.pointers = new Map();
    this.gesture = null;
    this.autoFit = true; // until the user pans or zooms, resizing re-fits the whole country

    this.svg = el("svg", { class: "map-svg", "aria-hidden": "true", focusable: "false" });
    root.appendChild(this.svg);
    this.tooltip = document.createElement("div");
    this.tooltip.className = "map-tooltip";
    this.tooltip.hidden = true;
    root.appendChild(this.tooltip);

    this.#bindPointer();
    this.#bindKeys();
    new ResizeObserver(() => this.#fitAspect()).observe(root);
  }

  /** Draw the catalogue: [{id, lat, lng}, …]. */
  setAreas(areas) {
    const usable = areas.filter((a) => Number.isFinite(a.lat) && Number.isFinite(a.lng));
    if (!usable.length) {
      // An empty catalogue (`--locations none`): nothing to draw, the list still works.
      this.svg.replaceChildren();
      this.full = this.view = this.focusRing = null;
      this.ids = [];
      this.index.clear();
      return;
    }
    const lats = usable.map((a) => a.lat);
    const lngs = usable.map((a) => a.lng);
    const [minLat, maxLat] = [Math.min(...lats), Math.max(...lats)];
    const [minLng, maxLng] = [Math.min(...lngs), Math.max(...lngs)];
    // Equirectangular: shrink longitude by cos(mid-latitude) so distances look right.
    const kx = Math.cos((((minLat + maxLat) / 2) * Math.PI) / 180);
    const scale = WIDTH / ((maxLng - minLng) * kx);
    this.full = {
      x: 0,
      y: 0,
      w: WIDTH + 2 * PAD,
      h: (maxLat - minLat) * scale + 2 * PAD,
    };

    this.svg.replaceChildren();
    this.layers = {};
    this.project = (lng, lat) => [PAD + (lng - minLng) * kx * scale, PAD + (maxLat - lat) * scale];
    this.unproject = (x, y) => [minLng + (x - PAD) / (kx * scale), maxLat - (y - PAD) / scale];
    const land = el("path", { class: "land" }, this.svg);
    this.landPath = land;
    this.regionLayer = el("g", { class: "layer-regions" }, this.svg);
    this.borderPath = el("path", { class: "borders" }, this.svg);
    this.labelLayer = el("g", { class: "layer-labels" }, this.svg);

    for (const name of ["base", "mine", "fading", "active", "marks"]) {
      this.layers[name] = el("g", { class: `layer-${name}` }, this.svg);
    }
    // Clusters above the dots: zoomed out, they are what the map says.
    this.clusterLayer = el("g", { class: "layer-clusters" }, this.svg);
    this.clusterKey = "";
    this.focusRing = el("circle", { class: "focus-ring", r: 0 }, this.svg);
    this.focusRing.style.display = "none";

    this.ids = usable.map((a) => a.id);
    this.xs = new Float64Array(usable.length);
    this.ys = new Float64Array(usable.length);
    this.index.clear();
    this.dots = [];
    // The land is the union of generous discs around every area: a soft silhouette of the
    // populated country drawn as one path (one element instead of 1,449).
    const landR = 50;
    let d = "";
    usable.forEach((a, i) => {
      const x = PAD + (a.lng - minLng) * kx * scale;
      const y = PAD + (maxLat - a.lat) * scale;
      this.xs[i] = x;
      this.ys[i] = y;
      this.index.set(a.id, i);
      d += `M${(x - landR).toFixed(1)},${y.toFixed(1)}a${landR},${landR} 0 1,0 ${2 * landR},0a${landR},${landR} 0 1,0 ${-2 * landR},0`;
      const dot = el("circle", {
        class: "area",
        cx: x.toFixed(1),
        cy: y.toFixed(1),
        "data-location": a.id,
      });
      this.dots.push(dot);
    });
    land.setAttribute("d", d);
    this.#drawBackdrop();
    this.#drawRegions();
    this.#drawLabels();
    const frag = document.createDocumentFragment();
    this.dots.forEach((dot) => frag.appendChild(dot));
    this.layers.base.appendChild(frag);

    // Re-apply state that arrived before the catalogue did.
    for (const [id, kind] of this.state) this.#apply(id, kind);
    for (const id of this.mine) this.#place(id);
    this.reset();
  }

  /**
   * The land and borders ({land: [[[lng, lat]…]…], borders: [[[lng, lat]…]…]}, built offline
   * by scripts/build_map_outline.py);
   * replaces the soft silhouette drawn from the areas themselves.
   */
  setBackdrop(outline) {
    this.backdrop = outline;
    this.#drawBackdrop();
  }

  /** Zone names at their areas' centre: [{id, name, lat, lng, areas: [ids]}]. */
  setZoneLabels(labels) {
    this.zoneLabels = labels;
    this.#drawLabels();
  }

  /** Each area's outline: an AreaIndex (geo.js) of v1/locations/regions.json. */
  setRegions(index) {
    this.areaIndex = index ?? null;
    this.#drawRegions();
  }

  #drawRegions() {
    if (!this.areaIndex || !this.project) return;
    this.regions = [];
    const frag = document.createDocumentFragment();
    this.ids.forEach((id, i) => {
      const rings = this.areaIndex.rings(id);
      if (!rings) return;
      let d = "";
      for (const ring of rings) {
        for (let k = 0; k < ring.length; k += 2) {
          const [x, y] = this.project(ring[k], ring[k + 1]);
          d += `${k ? "L" : "M"}${x.toFixed(1)},${y.toFixed(1)}`;
        }
        d += "Z";
      }
      const path = el("path", { class: "region", d, "data-region": id });
      this.regions[i] = path;
      frag.appendChild(path);
    });
    this.regionLayer.replaceChildren(frag);
    this.svg.classList.add("has-regions");
    for (const [id, kind] of this.state) this.#apply(id, kind);
    for (const id of this.mine) this.regions[this.index.get(id)]?.classList.add("mine");
  }

  #drawBackdrop() {
    if (!this.backdrop || !this.project) return;
    const path = (lines, close) =>
      lines
        .map((line) => line.map(([lng, lat], i) => `${i ? "L" : "M"}${this.project(lng, lat).map((v) => v.toFixed(1)).join(",")}`).join("") + (close ? "Z" : ""))
        .join("");
    this.landPath.setAttribute("d", path(this.backdrop.land ?? [], true));
    this.landPath.classList.add("outline");
    this.borderPath.setAttribute("d", path(this.backdrop.borders ?? [], false));
  }

  #drawLabels() {
    if (!this.zoneLabels || !this.project) return;
    const frag = document.createDocumentFragment();
    for (const label of this.zoneLabels) {
      const [x, y] = this.project(label.lng, label.lat);
      const text = el("text", { class: "zone-label", x: x.toFixed(1), y: y.toFixed(1), "text-anchor": "middle" });
      text.textContent = label.name;
      frag.appendChild(text);
    }
    this.labelLayer.replaceChildren(frag);
    this.clusterKey = "";
    this.#drawClusters();
  }

  // Once per frame however many areas change in it: an alert for the whole country sets 1,449.
  #clustersSoon() {
    if (this.clusterFrame) return;
    this.clusterFrame = requestAnimationFrame(() => {
      this.clusterFrame = 0;
      this.#drawClusters();
    });
  }

  // Zoomed out, zone names would overlap: draw each zone as a disc with its number of areas
  // (or of areas under alert, in the alert colour), merging discs that would touch on screen.
  #drawClusters() {
    if (!this.zoneLabels || !this.view || !this.project) return;
    const clustered = this.view.w > this.full.w * CLUSTER_W;
    this.svg.classList.toggle("clustered", clustered);
    if (!clustered) {
      if (this.clusterKey) this.clusterLayer.replaceChildren();
      this.clusterKey = "";
      return;
    }
    // The discs are sized in --u (screen px grown a little with the zoom, see #setView).
    const upp = this.u ?? this.#unitsPerPx();
    const active = (id) => ACTIVE_LOOKS.includes(this.state.get(id));
    const key = `${Math.round(upp * 1000)}|${[...this.state].filter(([id]) => active(id)).length}`;
    if (key === this.clusterKey) return;
    this.clusterKey = key;
    const minD = CLUSTER_PX * upp;
    const zones = this.zoneLabels
      .map((z) => {
        const [x, y] = this.project(z.lng, z.lat);
        const ids = z.areas ?? [];
        return { x, y, n: ids.length, alerts: ids.filter(active).length, names: [z.name] };
      })
      .sort((a, b) => b.alerts - a.alerts || b.n - a.n);
    const placed = [];
    for (const z of zones) {
      const near = placed.find((c) => Math.hypot(c.x - z.x, c.y - z.y) < minD);
      if (!near) {
        placed.push({ ...z });
        continue;
      }
      // Merge: the weighted centre could now touch a third cluster; repeat until none does.
      mergeCluster(near, z);
      for (let other = near; other; ) {
        other = placed.find((c) => c !== near && Math.hypot(c.x - near.x, c.y - near.y) < minD);
        if (other) {
          mergeCluster(near, other);
          placed.splice(placed.indexOf(other), 1);
        }
      }
    }
    const frag = document.createDocumentFragment();
    for (const c of placed) {
      const g = el("g", { class: c.alerts ? "cluster has-alert" : "cluster" }, frag);
      g.dataset.count = String(c.alerts || c.n);
      el("circle", { cx: c.x.toFixed(1), cy: c.y.toFixed(1) }, g);
      const text = el("text", { x: c.x.toFixed(1), y: c.y.toFixed(1), "text-anchor": "middle", "dominant-baseline": "central" }, g);
      text.textContent = String(c.alerts || c.n);
      el("title", {}, g).textContent = c.names.join(", ");
    }
    this.clusterLayer.replaceChildren(frag);
  }

  has(id) {
    return this.index.has(id);
  }

  /** Set an area's state: one of ACTIVE_LOOKS, "clear", "ended" or null. */
  setState(id, kind) {
    clearTimeout(this.timers.get(id));
    this.timers.delete(id);
    if (kind === null) this.state.delete(id);
    else this.state.set(id, kind);
    this.#apply(id, kind);
    if (kind === "clear") {
      this.timers.set(
        id,
        setTimeout(() => this.setState(id, "ended"), CLEAR_MS),
      );
    } else if (kind === "ended") {
      this.timers.set(
        id,
        setTimeout(() => {
          this.state.delete(id);
          this.timers.delete(id);
          this.#apply(id, null);
        }, FADE_MS),
      );
    }
    if (this.pinned === id || this.hovered === id) this.#renderTooltip(id);
  }

  /** Mark the user's areas (a Set of ids). */
  setMine(ids) {
    const before = this.mine;
    this.mine = new Set(ids);
    for (const id of new Set([...before, ...this.mine])) {
      const i = this.index.get(id);
      if (i === undefined) continue;
      this.dots[i].classList.toggle("mine", this.mine.has(id));
      this.regions[i]?.classList.toggle("mine", this.mine.has(id));
      this.#place(id);
    }
    if (this.pinned) this.#renderTooltip(this.pinned);
  }

  /** Outline one area (e.g. while its row in the list is hovered); null hides it. */
  highlight(id) {
    if (!this.focusRing) return; // nothing drawn yet
    const i = id == null ? undefined : this.index.get(id);
    if (i === undefined) {
      this.focusRing.style.display = "none";
      return;
    }
    this.focusRing.setAttribute("cx", this.xs[i]);
    this.focusRing.setAttribute("cy", this.ys[i]);
    this.focusRing.style.display = "";
  }

  /** Zoom to one area and show its details. */
  focusArea(id) {
    const i = this.index.get(id);
    if (i === undefined) return;
    const aspect = this.#aspect();
    let w = this.full.w / 8;
    let [cx, cy] = [this.xs[i], this.ys[i]];
    const region = this.regions[i];
    if (region) {
      // Room around the region for its popup: it fills at most a third of the view.
      const b = region.getBBox();
      w = Math.max(w, b.width * 3, (b.height * 3) / aspect);
      [cx, cy] = [b.x + b.width / 2, b.y + b.height / 2];
    }
    this.autoFit = false;
    this.#setView({ x: cx - w / 2, y: cy - (w * aspect) / 2, w, h: w * aspect });
    this.#pin(id);
  }

  /** Zoom to the areas currently under alert (the whole country when there are none). */
  showActive() {
    const idx = [...this.state]
      .filter(([, kind]) => ACTIVE_LOOKS.includes(kind))
      .map(([id]) => this.index.get(id))
      .filter((i) => i !== undefined);
    if (!idx.length) return this.reset();
    let [x0, y0, x1, y1] = [Infinity, Infinity, -Infinity, -Infinity];
    for (const i of idx) {
      x0 = Math.min(x0, this.xs[i]);
      x1 = Math.max(x1, this.xs[i]);
      y0 = Math.min(y0, this.ys[i]);
      y1 = Math.max(y1, this.ys[i]);
    }
    const margin = 60;
    this.autoFit = false;
    this.#fitBox(x0 - margin, y0 - margin, x1 + margin, y1 + margin);
  }

  reset() {
    if (!this.full) return;
    this.#fitBox(this.full.x, this.full.y, this.full.x + this.full.w, this.full.y + this.full.h);
    this.autoFit = true;
  }

  zoom(factor) {
    if (!this.view) return;
    this.autoFit = false;
    const cx = this.view.x + this.view.w / 2;
    const cy = this.view.y + this.view.h / 2;
    this.#zoomAt(factor, cx, cy);
  }

  /** Re-render the tooltip (e.g. after a language change). */
  refresh() {
    const id = this.pinned ?? this.hovered;
    if (id) this.#renderTooltip(id);
  }

  // --- state rendering -------------------------------------------------------------------

  #apply(id, kind) {
    const i = this.index.get(id);
    if (i === undefined) return;
    const active = ACTIVE_LOOKS.includes(kind);
    for (const shape of [this.dots[i], this.regions[i]]) {
      if (!shape) continue;
      shape.classList.toggle("active", active);
      for (const look of ACTIVE_LOOKS) shape.classList.toggle(`kind-${look}`, kind === look);
      shape.classList.toggle("cleared", kind === "clear");
      // Only an ending window animates (back to grey); zooming must resize dots instantly.
      shape.classList.toggle("fading", kind === "ended");
    }
    this.#clustersSoon();
    this.#place(id);
    this.#removeMarks(id);
    if (active) {
      const marks = [];
      // A few pulses when the alert starts draw the eye, then the dot stays still.
      if (this.pulsing < MAX_PULSES && kind !== "drill") {
        const pulse = el("circle", { class: `pulse pulse-${kind}`, cx: this.xs[i], cy: this.ys[i] }, this.layers.marks);
        this.pulsing++;
        setTimeout(() => {
          pulse.remove();
          this.pulsing--;
        }, PULSE_MS);
        marks.push(pulse);
      }
      if (kind === "early") {
        const diamond = el("path", { class: "mark-early", d: "M0,-1L1,0L0,1L-1,0Z" }, this.layers.marks);
        diamond.style.setProperty("--x", `${this.xs[i]}px`);
        diamond.style.setProperty("--y", `${this.ys[i]}px`);
        marks.push(diamond);
      }
      this.marks.set(id, marks);
    }
  }

  #removeMarks(id) {
    for (const m of this.marks.get(id) ?? []) m.remove();
    this.marks.delete(id);
  }

  // Paint order is document order in SVG: alerts above everything, then fading dots, then the
  // user's areas, then the rest.
  #place(id) {
    const i = this.index.get(id);
    if (i === undefined) return;
    const kind = this.state.get(id);
    let layer = "base";
    if (ACTIVE_LOOKS.includes(kind) || kind === "clear") layer = "active";
    else if (kind === "ended") layer = "fading";
    else if (this.mine.has(id)) layer = "mine";
    const target = this.layers[layer];
    if (this.dots[i].parentNode !== target) target.appendChild(this.dots[i]);
  }

  // --- view box: pan and zoom --------------------------------------------------------------

  #aspect() {
    const r = this.root.getBoundingClientRect();
    return r.width > 0 && r.height > 0 ? r.height / r.width : this.full.h / this.full.w;
  }

  #fitBox(x0, y0, x1, y1) {
    const aspect = this.#aspect();
    let w = x1 - x0;
    let h = y1 - y0;
    if (h / w > aspect) w = h / aspect;
    else h = w * aspect;
    const cx = (x0 + x1) / 2;
    const cy = (y0 + y1) / 2;
    this.#setView({ x: cx - w / 2, y: cy - h / 2, w, h });
  }

  #fitAspect() {
    if (!this.view) return;
    if (this.autoFit) {
      this.reset();
      return;
    }
    // Keep the centre and the horizontal extent; follow the container's shape.
    const { x, y, w, h } = this.view;
    const nh = w * this.#aspect();
    this.#setView({ x, y: y + h / 2 - nh / 2, w, h: nh });
  }

  #setView(v) {
    const full = this.full;
    const aspect = v.h / v.w;
    // Never zoom out past the whole country nor in past MAX_ZOOM.
    const maxW = Math.max(full.w, full.h / aspect);
    const minW = full.w / MAX_ZOOM;
    const w = Math.min(maxW, Math.max(minW, v.w));
    const h = w * aspect;
    let x = v.x + (v.w - w) / 2;
    let y = v.y + (v.h - h) / 2;
    // Keep the view over the country: centre when larger, clamp edges otherwise.
    x = w >= full.w ? full.x + (full.w - w) / 2 : Math.min(Math.max(x, full.x), full.x + full.w - w);
    y = h >= full.h ? full.y + (full.h - h) / 2 : Math.min(Math.max(y, full.y), full.y + full.h - h);
    this.view = { x, y, w, h };
    this.svg.setAttribute("viewBox", `${x.toFixed(2)} ${y.toFixed(2)} ${w.toFixed(2)} ${h.toFixed(2)}`);
    // CSS sizes dots in screen pixels times --u: one --u is one screen pixel in user units,
    // grown a little with the zoom so dense cities separate yet stay visible.
    const px = this.svg.clientWidth || this.root.clientWidth || 400;
    const u = (w / px) * Math.pow(full.w / w, 0.35);
    this.u = Number(u.toFixed(4));
    this.svg.style.setProperty("--u", u.toFixed(4));
    this.#drawClusters();
    if (this.pinned) this.#positionTooltip(this.pinned);
  }

  #zoomAt(factor, cx, cy) {
    const v = this.view;
    const w = v.w / factor;
    const h = v.h / factor;
    this.#setView({ x: cx - ((cx - v.x) / v.w) * w, y: cy - ((cy - v.y) / v.h) * h, w, h });
  }

  #toSvg(clientX, clientY) {
    const ctm = this.svg.getScreenCTM();
    if (!ctm) return { x: 0, y: 0 };
    const p = new DOMPoint(clientX, clientY).matrixTransform(ctm.inverse());
    return { x: p.x, y: p.y };
  }

  #unitsPerPx() {
    const r = this.svg.getBoundingClientRect();
    return r.width ? this.view.w / r.width : 1;
  }

  // What the pointer touches: a dot right under it (a small area inside a large one's reach),
  // else the outline it is inside, else the nearest dot within HIT_PX.
  #nearest(clientX, clientY) {
    if (!this.ids.length) return null;
    const p = this.#toSvg(clientX, clientY);
    const onDot = this.#nearestDot(p, HIT_PX / 2);
    if (onDot) return onDot;
    if (this.areaIndex && this.regions.length) {
      const [lng, lat] = this.unproject(p.x, p.y);
      const inside = this.areaIndex.at(lat, lng).find((id) => this.index.has(id));
      if (inside) return inside;
    }
    return this.#nearestDot(p, HIT_PX);
  }

  #nearestDot(p, px) {
    const max = px * this.#unitsPerPx();
    let best = -1;
    let bestD = max * max;
    for (let i = 0; i < this.ids.length; i++) {
      const dx = this.xs[i] - p.x;
      const dy = this.ys[i] - p.y;
      const d = dx * dx + dy * dy;
      if (d < bestD) {
        bestD = d;
        best = i;
      }
    }
    return best >= 0 ? this.ids[best] : null;
  }

  #bindPointer() {
    const svg = this.svg;
    svg.addEventListener("pointerdown", (e) => {
      if (!this.view) return;
      svg.setPointerCapture(e.pointerId);
      this.pointers.set(e.pointerId, { x: e.clientX, y: e.clientY });
      if (this.pointers.size === 1) {
        this.gesture = { kind: "pan", x: e.clientX, y: e.clientY, view: { ...this.view }, moved: false };
      } else if (this.pointers.size === 2) {
        const [a, b] = [...this.pointers.values()];
        this.gesture = {
          kind: "pinch",
          dist: Math.hypot(a.x - b.x, a.y - b.y),
          view: { ...this.view },
          center: this.#toSvg((a.x + b.x) / 2, (a.y + b.y) / 2),
          moved: true,
        };
      }
    });
    svg.addEventListener("pointermove", (e) => {
      if (!this.view) return;
      const g = this.gesture;
      if (!g || !this.pointers.has(e.pointerId)) {
        if (e.pointerType === "mouse" && !this.pinned) this.#hover(this.#nearest(e.clientX, e.clientY), e);
        return;
      }
      this.pointers.set(e.pointerId, { x: e.clientX, y: e.clientY });
      if (g.kind === "pan") {
        const dx = e.clientX - g.x;
        const dy = e.clientY - g.y;
        if (!g.moved && Math.hypot(dx, dy) < 5) return;
        g.moved = true;
        this.autoFit = false;
        const upp = g.view.w / svg.getBoundingClientRect().width;
        this.#setView({ ...g.view, x: g.view.x - dx * upp, y: g.view.y - dy * upp });
      } else if (g.kind === "pinch" && this.pointers.size === 2) {
        const [a, b] = [...this.pointers.values()];
        const factor = Math.hypot(a.x - b.x, a.y - b.y) / g.dist;
        this.autoFit = false;
        const w = g.view.w / factor;
        const h = g.view.h / factor;
        const c = g.center;
        this.#setView({ x: c.x - ((c.x - g.view.x) / g.view.w) * w, y: c.y - ((c.y - g.view.y) / g.view.h) * h, w, h });
      }
    });
    const end = (e) => {
      const g = this.gesture;
      this.pointers.delete(e.pointerId);
      if (this.pointers.size === 0) {
        this.gesture = null;
        if (g && !g.moved && e.type === "pointerup") {
          // A tap or click: pin the nearest area's details, or close them on empty sea.
          const id = this.#nearest(e.clientX, e.clientY);
          if (id) this.#pin(id);
          else this.unpin();
        }
      }
    };
    svg.addEventListener("pointerup", end);
    svg.addEventListener("pointercancel", end);
    svg.addEventListener("pointerleave", (e) => {
      if (e.pointerType === "mouse" && !this.pinned) this.#hover(null);
    });
    svg.addEventListener(
      "wheel",
      (e) => {
        if (!this.view) return;
        e.preventDefault();
        this.autoFit = false;
        const p = this.#toSvg(e.clientX, e.clientY);
        this.#zoomAt(Math.exp(-e.deltaY * 0.0015), p.x, p.y);
      },
      { passive: false },
    );
  }

  #bindKeys() {
    this.root.addEventListener("keydown", (e) => {
      if (!this.view || e.target !== this.root) return;
      const step = this.view.w * 0.15;
      const moves = {
        ArrowLeft: [-step, 0],
        ArrowRight: [step, 0],
        ArrowUp: [0, -step],
        ArrowDown: [0, step],
      };
      if (e.key in moves) {
        const [dx, dy] = moves[e.key];
        this.autoFit = false;
        this.#setView({ ...this.view, x: this.view.x + dx, y: this.view.y + dy });
      } else if (e.key === "+" || e.key === "=") this.zoom(1.5);
      else if (e.key === "-" || e.key === "_") this.zoom(1 / 1.5);
      else if (e.key === "0") this.reset();
      else if (e.key === "Escape") this.unpin();
      else return;
      e.preventDefault();
    });
  }

  // --- tooltip -------------------------------------------------------------------------------

  #hover(id) {
    if (id === this.hovered) return;
    this.hovered = id;
    if (!id) {
      this.tooltip.hidden = true;
      this.highlight(null);
      return;
    }
    this.#renderTooltip(id);
  }

  #pin(id) {
    this.pinned = id;
    this.hovered = null;
    this.#renderTooltip(id);
  }

  unpin() {
    this.pinned = null;
    this.tooltip.hidden = true;
    this.highlight(null);
  }

  #renderTooltip(id) {
    const info = this.hooks.describe(id);
    if (!info) return;
    const tip = this.tooltip;
    tip.replaceChildren();
    tip.dataset.status = info.status;
    const title = document.createElement("strong");
    title.className = "tip-name";
    title.textContent = info.name;
    const zone = document.createElement("span");
    zone.className = "tip-zone";
    zone.textContent = info.zone;
    const status = document.createElement("span");
    status.className = `tip-status status-${info.status}`;
    status.textContent = info.statusLabel;
    tip.append(title, zone, status);
    if (id === this.pinned) {
      tip.classList.add("pinned");
      const actions = document.createElement("div");
      actions.className = "tip-actions";
      const toggle = document.createElement("button");
      toggle.type = "button";
      toggle.className = "btn btn-small";
      toggle.textContent = info.mine ? info.removeLabel : info.addLabel;
      toggle.addEventListener("click", () => this.hooks.onToggleMine(id));
      const close = document.createElement("button");
      close.type = "button";
      close.className = "btn btn-small btn-quiet";
      close.textContent = info.closeLabel;
      close.addEventListener("click", () => {
        this.unpin();
        this.root.focus();
      });
      actions.append(toggle, close);
      tip.append(actions);
    } else {
      tip.classList.remove("pinned");
    }
    tip.hidden = false;
    this.highlight(id);
    this.#positionTooltip(id);
  }

  // The popup sits beside its area, never over it: first beside the whole region (right, left,
  // below, above), else beside the dot; a spot is taken only if it fits inside the map.
  #positionTooltip(id) {
    const i = this.index.get(id);
    if (i === undefined || this.tooltip.hidden) return;
    const ctm = this.svg.getScreenCTM();
    if (!ctm) return;
    const box = this.root.getBoundingClientRect();
    const p = new DOMPoint(this.xs[i], this.ys[i]).matrixTransform(ctm);
    const dot = { x0: p.x - box.left, y0: p.y - box.top, x1: p.x - box.left, y1: p.y - box.top };
    const shapes = [];
    const region = this.regions[i];
    if (region) {
      const r = region.getBoundingClientRect();
      shapes.push({ x0: r.left - box.left, y0: r.top - box.top, x1: r.right - box.left, y1: r.bottom - box.top });
    }
    shapes.push(dot);
    const tw = this.tooltip.offsetWidth;
    const th = this.tooltip.offsetHeight;
    const gap = 14;
    const fits = (l, t) => l >= 8 && t >= 8 && l + tw <= box.width - 8 && t + th <= box.height - 8;
    const clampY = (t) => Math.min(Math.max(8, t), box.height - th - 8);
    const clampX = (l) => Math.min(Math.max(8, l), box.width - tw - 8);
    let spot = null;
    for (const s of shapes) {
      const cy = (s.y0 + s.y1) / 2;
      const cx = (s.x0 + s.x1) / 2;
      const candidates = [
        [s.x1 + gap, clampY(cy - th / 2)],
        [s.x0 - gap - tw, clampY(cy - th / 2)],
        [clampX(cx - tw / 2), s.y1 + gap],
        [clampX(cx - tw / 2), s.y0 - gap - th],
      ];
      spot = candidates.find(([l, t]) => fits(l, t));
      if (spot) break;
    }
    const [left, top] = spot ?? [Math.max(8, dot.x0 + gap), clampY(dot.y0 - th / 2)];
    this.tooltip.style.left = `${left}px`;
    this.tooltip.style.top = `${top}px`;
  }
}
