// The active alerts list: one row per area under alert, with its guidance and countdowns.

import { $, formatDuration, h, icon } from "../dom.js";
import { isNationwide, normalize } from "../catalog.js";
import { guidance, guidanceText, urgency } from "../guidance.js";
import { hasMine, isMine, effectiveSub } from "../protocol.js";
import { KEYS, areaName, load, serverNow, state, store, t, zoneName } from "../state.js";
import { map, showOnMap } from "./map-panel.js";

const ROW_FADE_MS = 1200; // a closed row fades for this long, then goes

const rows = new Map(); // location -> {el, refs, closing, sig, last}

/** The look of an incident (see guidance.js): alert, hazard, early, info, drill, clear. */
export function incidentLook(incident) {
  return guidance(incident.category).look;
}

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
  locate.tabIndex = -1; // the list is one Tab stop (see updateRoving)
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
  const action = h("p", "row-action");
  const source = h("p", "row-source");
  main.append(title, meta, action, source);

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
    refs: { badgeIcon, badgeText, locate, mineTag, mineText, zone, type, since, action, source, shelterBox, shelterLabel, shelter, windowLabel, windowValue },
    last: {},
  };
}

function fillRow(row, incident) {
  const look = incidentLook(incident);
  const shelterApplies = guidance(incident.category).shelter;
  const mine = hasMine(state.prefs) && isMine(state.prefs, incident.location, incident.zone);
  const name = areaName(incident.location, incident.names);
  const zone = incident.known === false ? t("row.unknown") : zoneName(incident.zone, incident.zone_names);
  const text = guidanceText(incident.category, state.lang);
  const nationwide = isNationwide(incident);
  const sig = [state.lang, look, incident.category, mine, name, zone, incident.title, incident.instructions, incident.incident_id, nationwide].join("|");
  if (row.sig === sig) return;
  row.sig = sig;
  row.last = {};
  const r = row.refs;
  row.el.className = row.el.className.replace(/\bkind-\w+/g, "").trim();
  row.el.classList.add(`kind-${look}`);
  row.el.classList.toggle("is-mine", mine);
  row.el.dataset.kind = look;
  row.el.dataset.category = incident.category;
  row.el.dataset.incident = incident.incident_id ?? "";
  r.badgeIcon.replaceChildren(icon(look));
  r.badgeText.textContent = t(`kind.${look}`);
  r.locate.textContent = name;
  r.locate.setAttribute("aria-label", t("row.locate", { name }));
  r.mineTag.hidden = !mine;
  r.mineText.textContent = t("row.mine");
  r.zone.textContent = zone;
  r.type.textContent = text.label;
  r.action.textContent = text.action;
  row.el.classList.toggle("is-nationwide", nationwide);
  // The source's own words when it gave any: a title that adds to the category's name, and
  // its instructions; first, that the alert is for the whole country.
  const own = [nationwide ? t("nationwide") : null, incident.title, incident.instructions].filter((s) => s && s !== text.label);
  r.source.textContent = own.join(" — ");
  r.source.hidden = !own.length;
  r.shelterBox.hidden = !shelterApplies;
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

/** Seconds left to reach shelter, or null where no countdown applies. */
export function shelterLeft(incident, now) {
  if (!guidance(incident.category).shelter || !incident.issued_at || incident.shelter_seconds == null) return null;
  return incident.issued_at + incident.shelter_seconds * 1000 - now;
}

function tickRow(row, incident, now) {
  const r = row.refs;
  if (incident.issued_at) {
    setText(row, "since", r.since, t("row.issued", { t: formatDuration(now - incident.issued_at) }));
  }
  // Time to shelter: from the latest siren, `shelter_seconds` long; only where it applies.
  const left = shelterLeft(incident, now);
  let shelterText = "—";
  if (left !== null) {
    if (left > 0) shelterText = formatDuration(left, true);
    else if (incident.shelter_seconds === 0 && now - incident.issued_at < 90000) shelterText = t("row.shelter_now");
    else shelterText = t("row.shelter_passed");
  }
  setText(row, "shelter", r.shelter, shelterText);
  r.shelter.dataset.seconds = left === null ? "" : String(Math.max(0, Math.ceil(left / 1000)));
  const urgent = left !== null && left > 0;
  if (row.last.urgent !== urgent) {
    row.last.urgent = urgent;
    r.shelterBox.classList.toggle("is-urgent", urgent);
    r.shelterBox.classList.toggle("is-passed", !urgent);
  }
  let windowText = "—";
  let windowLeft = null;
  if (incident.ends_at) {
    const wl = incident.ends_at - now;
    windowLeft = Math.max(0, Math.ceil(wl / 1000));
    windowText = wl > 0 ? formatDuration(wl, true) : t("row.window_ending");
  }
  setText(row, "window", r.windowValue, windowText);
  r.windowValue.dataset.seconds = windowLeft ?? "";
}

export function newestFirst(a, b) {
  // Ties (one alert naming many areas) keep a stable, cheap order: localeCompare is slow.
  return (b.issued_at ?? 0) - (a.issued_at ?? 0) || (a.location < b.location ? -1 : a.location > b.location ? 1 : 0);
}

// ------------------------------------------------------------------------------------------
// The operator's view: sort, group by zone, filter by name
// ------------------------------------------------------------------------------------------

const view = { sort: "newest", group: false, filter: "", collapsed: new Set() };
const groups = new Map(); // zone key -> {el, toggle, list}
let collator = null;

/** Seconds to shelter for sorting: the countdown where it applies, else after every countdown. */
function shelterKey(incident, now) {
  const left = shelterLeft(incident, now);
  if (left !== null && left > 0) return left;
  // No countdown running: most urgent category first, then newest.
  return 1e12 + urgency(incident.category) * 1e10 - (incident.issued_at ?? 0) / 1e3;
}

function zoneLabel(incident) {
  return incident.known === false ? t("row.unknown") : zoneName(incident.zone, incident.zone_names) || t("row.unknown");
}

function compareFor(sort, now) {
  if (sort === "shelter") {
    const keys = new Map();
    const key = (i) => keys.get(i) ?? keys.set(i, shelterKey(i, now)).get(i);
    return (a, b) => key(a) - key(b) || newestFirst(a, b);
  }
  if (sort === "zone") return (a, b) => collator.compare(zoneLabel(a), zoneLabel(b)) || newestFirst(a, b);
  return newestFirst;
}

function matchesFilter(incident) {
  if (!view.filter) return true;
  const area = state.catalog.get(incident.location);
  const keys = area?.keys ?? normalize(incident.location);
  return keys.includes(view.filter) || (state.zones.get(incident.zone)?.keys ?? "").includes(view.filter);
}

function groupFor(zoneKey, label, count) {
  let g = groups.get(zoneKey);
  if (!g) {
    const li = h("li", "zone-group");
    li.dataset.zone = zoneKey;
    const head = h("h3", "zone-head");
    const toggle = h("button", "zone-toggle");
    toggle.type = "button";
    toggle.append(h("span", "zone-name"), h("span", "zone-count"));
    toggle.addEventListener("click", () => {
      if (view.collapsed.has(zoneKey)) view.collapsed.delete(zoneKey);
      else view.collapsed.add(zoneKey);
      renderActive();
    });
    head.append(toggle);
    const list = h("ol", "zone-rows");
    li.append(head, list);
    g = { el: li, toggle, list };
    groups.set(zoneKey, g);
  }
  const collapsed = view.collapsed.has(zoneKey);
  g.toggle.setAttribute("aria-expanded", collapsed ? "false" : "true");
  g.toggle.querySelector(".zone-name").textContent = label;
  g.toggle.querySelector(".zone-count").textContent = t("active.zone_count", { n: count });
  g.list.hidden = collapsed;
  g.el.classList.toggle("is-collapsed", collapsed);
  return g;
}

/** Put `nodes` into `parent` in this order, leaving rows that are fading out where they were. */
function placeInOrder(parent, nodes) {
  let prev = null;
  for (const node of nodes) {
    let want = prev ? prev.nextSibling : parent.firstChild;
    while (want && want.classList.contains("closing")) want = want.nextSibling;
    if (want !== node) parent.insertBefore(node, want);
    prev = node;
  }
}

function startRowClose(location, row) {
  const reason = state.model.closedReason.get(location);
  const kind = reason === "cancelled" ? "clear" : "ended";
  row.el.classList.add("closing", `closed-${kind}`);
  row.el.dataset.kind = kind;
  row.refs.badgeIcon.replaceChildren(icon(kind));
  row.refs.badgeText.textContent = t(`kind.${kind}`);
  row.closing = setTimeout(() => {
    // Focus stays in the list: on the next row (or the previous one) when this one held it.
    const hadFocus = row.el.contains(document.activeElement);
    const items = focusables();
    const at = items.indexOf(row.refs.locate);
    row.el.remove();
    rows.delete(location);
    state.model.closedReason.delete(location);
    if (hadFocus) {
      const rest = items.filter((node) => node !== row.refs.locate && node.isConnected);
      const next = rest[Math.min(Math.max(at, 0), rest.length - 1)];
      if (next) focusItem(next);
      else $("#active-section").focus();
    }
    updateQuiet();
  }, ROW_FADE_MS);
}

/** Rows are rebuilt from scratch on the next render (after a language or preference change). */
export function invalidateRows() {
  for (const row of rows.values()) row.sig = "";
}

function summary(items) {
  const n = items.length;
  if (!n) return "";
  // The whole country: naming three of thirty zones would say less than that.
  if (items.some(isNationwide)) return `${t("nationwide")}: ${t("active.count", { n })}`;
  const counts = new Map();
  for (const i of items) counts.set(zoneLabel(i), (counts.get(zoneLabel(i)) ?? 0) + 1);
  const top = [...counts.entries()].sort((a, b) => b[1] - a[1]).slice(0, 3);
  const named = top.map(([name, count]) => `${name} (${count})`).join(t("list.separator"));
  const more = counts.size > top.length ? ` ${t("banner.more", { n: counts.size - top.length })}` : "";
  return `${t("active.count", { n })} ${t("active.count_zones", { n: counts.size })}: ${named}${more}`;
}

export function renderActive() {
  const list = $("#active-list");
  const active = state.model.active;
  collator ??= new Intl.Collator(state.lang);
  if (collator.resolvedOptions().locale.split("-")[0] !== state.lang) collator = new Intl.Collator(state.lang);
  for (const [location, row] of rows) {
    if (!active.has(location) && !row.closing) startRowClose(location, row);
  }
  const all = [...active.values()];
  const items = all.filter(matchesFilter).sort(compareFor(view.sort, serverNow()));
  // New rows slide in, except in a barrage, where hundreds of animations only cost time.
  const animate = items.filter((i) => !rows.has(i.location)).length <= 12;
  const shown = new Set();
  const rowFor = (incident) => {
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
    shown.add(row.el);
    return row.el;
  };
  if (view.group) {
    // Zones in the order of their first row under the current sort.
    const byZone = new Map();
    for (const incident of items) {
      const key = incident.zone ?? `?${zoneLabel(incident)}`;
      if (!byZone.has(key)) byZone.set(key, []);
      byZone.get(key).push(incident);
    }
    const used = [];
    for (const [key, members] of byZone) {
      const g = groupFor(key, zoneLabel(members[0]), members.length);
      placeInOrder(g.list, members.map(rowFor));
      used.push(g.el);
    }
    for (const [key, g] of groups) if (!byZone.has(key)) { g.el.remove(); groups.delete(key); }
    for (const node of [...list.children]) if (!node.classList.contains("zone-group") && !node.classList.contains("closing")) node.remove();
    placeInOrder(list, used);
  } else {
    for (const g of groups.values()) g.el.remove();
    groups.clear();
    placeInOrder(list, items.map(rowFor));
  }
  // Rows the filter hides (and that are not fading out) leave the list.
  for (const row of rows.values()) if (!shown.has(row.el) && !row.closing) row.el.remove();
  list.classList.toggle("is-crowded", items.length > 12);
  $("#active-summary").textContent = summary(all);
  const nationwide = all.some(isNationwide);
  $("#active-nationwide").hidden = !nationwide;
  $("#map-nationwide").hidden = !nationwide;
  $("#filter-count").textContent = view.filter ? t("tools.filter_count", { n: items.length }) : "";
  document.title = all.length ? `(${all.length}) ${t("app.title")}` : t("app.title");
  updateRoving();
  updateQuiet();
}

// ------------------------------------------------------------------------------------------
// Keyboard: one Tab stop for the whole list (roving tabindex), arrows move between items
// ------------------------------------------------------------------------------------------

let current = null; // the item (row name button or zone toggle) that holds the Tab stop

function focusables() {
  return [...$("#active-list").querySelectorAll(".zone-toggle, .zone-rows:not([hidden]) .row-name, .active-list > .alert-row .row-name")]
    .filter((node) => !node.closest(".closing"));
}

function updateRoving() {
  const items = focusables();
  if (!items.includes(current)) current = items[0] ?? null;
  for (const node of items) node.tabIndex = node === current ? 0 : -1;
}

function focusItem(node) {
  current = node;
  updateRoving();
  node.focus();
}

function onListKey(e) {
  const items = focusables();
  const at = items.indexOf(document.activeElement);
  if (at < 0) return;
  let next = null;
  if (e.key === "ArrowDown") next = items[Math.min(at + 1, items.length - 1)];
  else if (e.key === "ArrowUp") next = items[Math.max(at - 1, 0)];
  else if (e.key === "Home") next = items[0];
  else if (e.key === "End") next = items[items.length - 1];
  if (!next) return;
  e.preventDefault();
  focusItem(next);
}

export function initActive() {
  const saved = load(KEYS.view, {});
  view.sort = ["newest", "shelter", "zone"].includes(saved?.sort) ? saved.sort : "newest";
  view.group = Boolean(saved?.group);
  const sort = $("#sort-rows");
  const group = $("#group-zones");
  const filter = $("#filter-rows");
  sort.value = view.sort;
  group.checked = view.group;
  const save = () => store(KEYS.view, { sort: view.sort, group: view.group });
  sort.addEventListener("change", () => {
    view.sort = sort.value;
    save();
    renderActive();
  });
  group.addEventListener("change", () => {
    view.group = group.checked;
    save();
    renderActive();
  });
  filter.addEventListener("input", () => {
    view.filter = normalize(filter.value);
    renderActive();
  });
  const list = $("#active-list");
  list.addEventListener("keydown", onListKey);
  list.addEventListener("focusin", (e) => {
    if (e.target.matches(".row-name, .zone-toggle") && current !== e.target) {
      current = e.target;
      updateRoving();
    }
  });
}

function updateQuiet() {
  const quiet = state.model.active.size === 0 && rows.size === 0;
  $("#all-quiet").hidden = !quiet;
  $("#active-section").classList.toggle("is-quiet", quiet);
  $("#all-quiet .quiet-detail").textContent = effectiveSub(state.prefs).all ? t("active.quiet_all") : t("active.quiet_mine");
}

export function tickActive(now) {
  for (const [location, row] of rows) {
    const incident = state.model.active.get(location);
    if (incident && !row.closing) tickRow(row, incident, now);
  }
}
