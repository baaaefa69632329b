// What a new event makes the page do besides drawing it: screen-reader announcements, sounds
// and notifications — each worded from the category's guidance (guidance.js).

import { $ } from "./dom.js";
import { guidance, guidanceText, urgency } from "./guidance.js";
import { isNationwide } from "./catalog.js";
import { hasMine, isMine } from "./protocol.js";
import { KEYS, areaName, load, serverNow, state, t, zoneOf } from "./state.js";
import { Sounds } from "./sound.js";

const BANNER_CLEAR_MS = 30000; // how long the green all-clear banner stays
const RECENT_CLEAR_MS = 60000; // an all-clear older than this is history, not news

export const sounds = new Sounds();

export function namesList(events) {
  const seen = [];
  // An alert for the whole country is "throughout the country", not 1,449 names.
  const national = events.filter(isNationwide);
  if (national.length > 5) {
    seen.push(t("nationwide"));
    events = events.filter((ev) => !isNationwide(ev));
  }
  for (const ev of events) {
    const name = areaName(ev.location, ev.names);
    if (!seen.includes(name)) seen.push(name);
  }
  const shown = seen.slice(0, 5).join(t("list.separator"));
  return seen.length > 5 ? `${shown} ${t("announce.more", { n: seen.length - 5 })}` : shown;
}

export function announce(text, assertive) {
  if (!text) return;
  const region = $(assertive ? "#announce-assertive" : "#announce-polite");
  region.textContent = "";
  // Setting the text after a moment makes screen readers announce a repeated message too.
  setTimeout(() => {
    region.textContent = text;
  }, 80);
}

/** Items (events or incidents) grouped by category, most urgent first. */
export function byCategory(items, categoryOfItem) {
  const groups = new Map();
  for (const item of items) {
    const c = categoryOfItem(item);
    if (!groups.has(c)) groups.set(c, []);
    groups.get(c).push(item);
  }
  return [...groups.entries()].sort((a, b) => urgency(a[0]) - urgency(b[0]));
}

/** "Earthquake — your area: Ashkelon. Leave the building…" for each category, most urgent first. */
export function mineText(groups) {
  return groups
    .map(([category, list]) => {
      const g = guidanceText(category, state.lang);
      return t("announce.mine", { label: g.label, names: namesList(list), action: g.action });
    })
    .join(" ");
}

/** Announcements for incidents already open when the page (re)loads its snapshot. */
export function announceSnapshot(added) {
  const mine = added.filter((i) => hasMine(state.prefs) && isMine(state.prefs, i.location, i.zone));
  if (mine.length) announce(mineText(byCategory(mine, (i) => i.category)), true);
}

/** React to the events of one `alerts` batch that changed the active set. */
export function react(events, replay) {
  if (!events.length) return;
  const now = serverNow();
  const active = state.model.active;
  const mineOn = hasMine(state.prefs);
  // Opens whose window is still open once the whole batch is applied (any of the area's
  // hazards: an earthquake in an area under rockets still rings).
  const windowOf = (ev) => state.model.windows.get(ev.location)?.get(ev.hazard ?? "");
  const opens = events.filter(
    (ev) => ev.kind === "open" && windowOf(ev)?.incident_id === (ev.incident_id ?? null),
  );
  const closes = events.filter((ev) => ev.kind === "close" && !active.has(ev.location));
  const clears = closes.filter(
    (ev) => ev.reason === "cancelled" && (!replay || now - (ev.ends_at ?? now) < RECENT_CLEAR_MS),
  );
  const ended = closes.filter((ev) => ev.reason !== "cancelled");
  const mine = (ev) => mineOn && isMine(state.prefs, ev.location, zoneOf(ev.location, ev.zone));
  const categoryOfEvent = (ev) => windowOf(ev)?.category ?? active.get(ev.location)?.category
    ?? "general";

  const mineOpens = byCategory(opens.filter(mine), categoryOfEvent);
  const otherOpens = byCategory(opens.filter((ev) => !mine(ev)), categoryOfEvent);
  const polite = otherOpens.map(([category, list]) =>
    t("announce.other", { label: guidanceText(category, state.lang).label, names: namesList(list) }),
  );
  if (clears.length) polite.push(t("announce.clear", { names: namesList(clears) }));
  if (ended.length && !replay) polite.push(t("announce.ended", { names: namesList(ended) }));
  announce(mineText(mineOpens), true);
  announce(polite.join(" "), false);

  // Sounds: for my areas when I have some, for every area otherwise; the most urgent wins.
  // Drills and messages are silent: a siren sound for a drill teaches people to ignore it.
  const relevant = byCategory(opens.filter((ev) => !mineOn || mine(ev)), categoryOfEvent);
  const loudest = relevant.map(([category]) => guidance(category).look).find((look) => look !== "drill" && look !== "info");
  if (loudest === "alert" || loudest === "hazard") sounds.play("alert");
  else if (loudest === "early") sounds.play("early");
  else if (clears.some((ev) => !mineOn || mine(ev))) sounds.play("clear");

  // Banner memory: a fresh all-clear for my areas shows green when none of them is left.
  const mineClears = clears.filter(mine);
  if (mineClears.length) state.banner.clear = { events: mineClears, until: Date.now() + BANNER_CLEAR_MS };
  if (mineOpens.length) state.banner.clear = null;

  if (mineOpens.length) {
    const [category, list] = mineOpens[0];
    const g = guidanceText(category, state.lang);
    const look = guidance(category).look;
    notify(`${g.label} — ${namesList(list)}`, mineText(mineOpens), look !== "drill" && look !== "info");
  } else if (mineClears.length) notify(t("banner.clear"), namesList(mineClears), false);
}

function notificationsWanted() {
  return "Notification" in window && Notification.permission === "granted" && load(KEYS.notify, true);
}

function notify(title, body, urgent) {
  if (!notificationsWanted()) return;
  try {
    const n = new Notification(title, {
      body,
      tag: "alertflow-my-areas",
      renotify: true,
      requireInteraction: urgent,
      lang: state.lang,
      icon: "favicon.svg",
    });
    n.onclick = () => {
      window.focus();
      n.close();
    };
  } catch (err) {
    // Some mobile browsers only allow notifications from a service worker.
    console.warn("alertflow: notification not shown", err?.message);
  }
}
