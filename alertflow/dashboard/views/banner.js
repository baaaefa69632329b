// The banner for my areas: sticky at the top until dismissed or closed. My areas under alert
// are grouped by category, most urgent first, each with its own instruction; the countdown to
// shelter shows only where a protected-space countdown applies.

import { $, formatDuration, h, icon } from "../dom.js";
import { guidance, guidanceText, urgency } from "../guidance.js";
import { isNationwide } from "../catalog.js";
import { hasMine, isMine } from "../protocol.js";
import { areaName, serverNow, state, t } from "../state.js";
import { newestFirst, shelterLeft } from "./active.js";

const MAX_NAMES = 6; // names listed per group before "+n more"

/** My areas under alert, grouped by category, most urgent group first. */
export function myGroups() {
  if (!hasMine(state.prefs)) return [];
  const groups = new Map();
  for (const incident of state.model.active.values()) {
    if (!isMine(state.prefs, incident.location, incident.zone)) continue;
    if (!groups.has(incident.category)) groups.set(incident.category, []);
    groups.get(incident.category).push(incident);
  }
  return [...groups.entries()]
    .map(([category, incidents]) => ({ category, incidents: incidents.sort(newestFirst) }))
    .sort((a, b) => urgency(a.category) - urgency(b.category));
}

function groupNode(group) {
  const g = guidance(group.category);
  const text = guidanceText(group.category, state.lang);
  const li = h("li", `banner-group look-${g.look}`);
  li.dataset.category = group.category;
  const head = h("p", "banner-group-head");
  head.append(h("span", "banner-group-label", text.label));
  const names = [...new Set(group.incidents.map((i) => areaName(i.location, i.names)))];
  const more = names.length > MAX_NAMES ? ` ${t("banner.more", { n: names.length - MAX_NAMES })}` : "";
  // An alert for the whole country says so first: my areas are in it because every area is.
  if (group.incidents.some(isNationwide)) head.append(h("span", "banner-nationwide", t("nationwide")));
  head.append(h("span", "banner-places", names.slice(0, MAX_NAMES).join(" · ") + more));
  li.append(head, h("p", "banner-action", text.action));
  // The source's own words for this group (the newest alert's), when it gave any.
  const latest = group.incidents[0];
  const own = [latest.title, latest.instructions].filter((s) => s && s !== text.label);
  if (own.length) li.append(h("p", "banner-source", own.join(" — ")));
  return li;
}

export function renderBanner() {
  const banner = $("#my-banner");
  const groups = myGroups();
  const dismissedAt = state.banner.dismissedAt;
  let mode = null;
  const list = $("#banner-groups");
  if (groups.length) {
    const fresh = groups.some((g) => g.incidents.some((i) => i.seenAt > dismissedAt));
    if (fresh) mode = guidance(groups[0].category).look;
  } else if (state.banner.clear && state.banner.clear.until > Date.now() && Date.now() - dismissedAt > 0) {
    mode = "clear";
  }
  if (!mode) {
    banner.hidden = true;
    banner.dataset.kind = "";
    document.body.classList.remove("has-banner");
    return;
  }
  banner.hidden = false;
  document.body.classList.add("has-banner");
  banner.dataset.kind = mode;
  banner.className = `banner banner-${mode}`;
  banner.querySelector(".banner-icon").replaceChildren(icon(mode));
  $("#banner-title").textContent = t(`banner.${mode}`);
  if (mode === "clear") {
    const names = [...new Set(state.banner.clear.events.map((ev) => areaName(ev.location, ev.names)))];
    const item = h("li", "banner-group look-clear");
    item.append(h("p", "banner-places", names.join(" · ")), h("p", "banner-action", guidanceText("all_clear", state.lang).action));
    list.replaceChildren(item);
  } else {
    list.replaceChildren(...groups.map(groupNode));
  }
  tickBanner();
}

export function tickBanner() {
  const banner = $("#my-banner");
  const timer = banner.querySelector(".banner-timer");
  if (banner.hidden || banner.dataset.kind === "clear") {
    timer.hidden = true;
    if (!banner.hidden && state.banner.clear && state.banner.clear.until <= Date.now()) renderBanner();
    return;
  }
  const now = serverNow();
  const deadlines = [...state.model.active.values()]
    .filter((i) => isMine(state.prefs, i.location, i.zone))
    .map((i) => shelterLeft(i, now))
    .filter((left) => left !== null);
  timer.hidden = !deadlines.length;
  if (!deadlines.length) return;
  const left = Math.min(...deadlines.filter((d) => d > 0), Infinity);
  const label = banner.querySelector(".banner-timer-label");
  const value = banner.querySelector(".banner-timer-value");
  if (Number.isFinite(left)) {
    label.textContent = t("banner.shelter");
    value.textContent = formatDuration(left, true);
    value.dataset.seconds = String(Math.ceil(left / 1000));
    value.hidden = false;
  } else {
    label.textContent = t("banner.shelter_passed");
    value.hidden = true;
  }
}

export function initBanner() {
  $("#my-banner .banner-dismiss").addEventListener("click", () => {
    state.banner.dismissedAt = Date.now();
    state.banner.clear = null;
    renderBanner();
  });
}
