// The active alerts list: one row per area under alert, with its guidance and countdowns.

import { $, formatDuration, h, icon } from "../dom.js";
import { guidance, guidanceText } from "../guidance.js";
import { hasMine, isMine, effectiveSub } from "../protocol.js";
import { areaName, serverNow, state, t, zoneName } from "../state.js";
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
  const sig = [state.lang, look, incident.category, mine, name, zone, incident.title, incident.instructions, incident.incident_id].join("|");
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
  // The source's own words when it gave any: a title that adds to the category's name, and
  // its instructions.
  const own = [incident.title, incident.instructions].filter((s) => s && s !== text.label);
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

function startRowClose(location, row) {
  const reason = state.model.closedReason.get(location);
  const kind = reason === "cancelled" ? "clear" : "ended";
  row.el.classList.add("closing", `closed-${kind}`);
  row.el.dataset.kind = kind;
  row.refs.badgeIcon.replaceChildren(icon(kind));
  row.refs.badgeText.textContent = t(`kind.${kind}`);
  row.closing = setTimeout(() => {
    row.el.remove();
    rows.delete(location);
    state.model.closedReason.delete(location);
    updateQuiet();
  }, ROW_FADE_MS);
}

/** Rows are rebuilt from scratch on the next render (after a language or preference change). */
export function invalidateRows() {
  for (const row of rows.values()) row.sig = "";
}

export function renderActive() {
  const list = $("#active-list");
  const active = state.model.active;
  for (const [location, row] of rows) {
    if (!active.has(location) && !row.closing) startRowClose(location, row);
  }
  const items = [...active.values()].sort(newestFirst);
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
  const n = active.size;
  const zones = new Set([...active.values()].map((i) => i.zone ?? i.location));
  $("#active-summary").textContent = n
    ? `${t("active.count", { n })} ${t("active.count_zones", { n: zones.size })}`.trim()
    : "";
  document.title = n ? `(${n}) ${t("app.title")}` : t("app.title");
  updateQuiet();
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
