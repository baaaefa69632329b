// History: every event this page saw (live, replayed, or loaded from GET v1/events), newest
// first, filtered like the active list. With areas chosen, the last 24 h of my areas are
// reloaded from the server, so they survive a reload however busy the rest of the country is.

import { $, formatTime, h, icon } from "../dom.js";
import { LANGUAGES } from "../i18n.js";
import { categoryOf, guidance, guidanceText } from "../guidance.js";
import { HISTORY_LIMIT, addHistory, covers, effectiveSub, hasMine, historyOrder, isMine, myLocations, trimHistory } from "../protocol.js";
import { areaName, serverNow, state, t, zoneName, zoneOf } from "../state.js";

const DAY_MS = 24 * 3600 * 1000;
const MINE_LIMIT = 1000; // events of my areas asked for (a day of a long war in one town)

function historyKind(ev) {
  if (ev.kind === "close") return ev.reason === "cancelled" ? "clear" : "ended";
  return guidance(ev.category).look;
}

function mine(ev) {
  return hasMine(state.prefs) && isMine(state.prefs, ev.location, zoneOf(ev.location, ev.zone));
}

let onlyMine = true; // with areas chosen, history shows theirs unless the user asks for all

function historyVisible(ev) {
  if (onlyMine && hasMine(state.prefs)) return mine(ev);
  return covers(effectiveSub(state.prefs), ev.location, zoneOf(ev.location, ev.zone));
}

export function initHistory() {
  const box = $("#history-mine");
  box.addEventListener("change", () => {
    onlyMine = box.checked;
    renderHistory();
  });
}

function historyRow(item) {
  const ev = item.ev;
  const kind = historyKind(ev);
  const li = h("li", `history-row kind-${kind}`);
  li.dataset.location = ev.location;
  li.dataset.kind = ev.kind;
  if (ev.reason) li.dataset.reason = ev.reason;
  if (ev.seq != null) li.dataset.seq = String(ev.seq);
  if (ev.late) li.dataset.late = "true";
  if (mine(ev)) li.classList.add("is-mine");
  const time = h("time", "hist-time", formatTime(item.at, LANGUAGES[state.lang].locale));
  time.dateTime = new Date(item.at).toISOString();
  const badge = h("span", "hist-badge");
  badge.append(icon(kind));
  badge.append(h("span", "", t(`kind.${kind}`)));
  const name = h("span", "hist-name", areaName(ev.location, ev.names));
  const detail = [zoneName(zoneOf(ev.location, ev.zone), ev.zone_names)];
  if (ev.kind === "open") detail.push(guidanceText(categoryOf(ev.category), state.lang).label);
  if (ev.kind === "open" && ev.title) detail.push(ev.title);
  const meta = h("span", "hist-meta", detail.filter(Boolean).join(" · "));
  li.append(time, badge, name, meta);
  return li;
}

export function renderHistory() {
  const list = $("#history");
  $("#history-mine-label").hidden = !hasMine(state.prefs);
  state.model.history.sort(historyOrder);
  const frag = document.createDocumentFragment();
  let count = 0;
  for (const item of state.model.history) {
    if (count >= HISTORY_LIMIT) break;
    if (!historyVisible(item.ev)) continue;
    frag.appendChild(historyRow(item));
    count++;
  }
  list.replaceChildren(frag);
  $("#history-empty").hidden = count > 0;
}

/** Live events are the newest: put them on top, newest first. */
export function renderHistoryAppend(events) {
  const list = $("#history");
  const wanted = new Set(events);
  const items = state.model.history.filter((item) => wanted.has(item.ev) && historyVisible(item.ev));
  if (!items.length) return;
  const frag = document.createDocumentFragment();
  for (const item of items.sort(historyOrder).slice(0, HISTORY_LIMIT)) frag.appendChild(historyRow(item));
  list.prepend(frag);
  while (list.children.length > HISTORY_LIMIT) list.lastElementChild.remove();
  $("#history-empty").hidden = true;
}

async function fetchEvents(query) {
  const res = await fetch(`v1/events?${query}`, { cache: "no-store" });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  const data = await res.json();
  return { epoch: data.epoch ?? state.model.epoch, events: Array.isArray(data) ? data : data.events ?? [] };
}

/** The recent events nationwide, and the last 24 h of my areas. */
export async function loadHistory(attempt = 0) {
  try {
    const queries = [new URLSearchParams({ limit: "200" })];
    if (hasMine(state.prefs)) {
      const q = new URLSearchParams({ limit: String(MINE_LIMIT), since_ms: String(Math.floor(serverNow() - DAY_MS)) });
      for (const id of myLocations(state.prefs)) q.append("locations", id);
      for (const zone of state.prefs.zones) q.append("zones", zone);
      queries.push(q);
    }
    const answers = await Promise.all(queries.map((q) => fetchEvents(q.toString())));
    const now = serverNow();
    for (const { epoch, events } of answers) {
      for (const ev of events) if (ev && typeof ev.location === "string") addHistory(state.model, ev, epoch, now);
    }
    trimHistory(state.model);
    $("#history-empty").textContent = t("history.empty");
    renderHistory();
  } catch (err) {
    console.warn("alertflow: history not loaded", err?.message);
    $("#history-empty").textContent = t("history.error");
    if (attempt < 5) setTimeout(() => loadHistory(attempt + 1), 2000 * 2 ** attempt);
  }
}
